// What both node-soap drivers share: one operation call as a promise of its `<name>Result`, noting what
// the client put on the wire (the envelope's namespace and the Content-Type it sent) in `envelopes`.
"use strict";

function soapCall(client, port, envelopes, defaults = {}) {
  return (name, args) => new Promise((resolve, reject) => {
    port[name]({ ...defaults, ...args }, (err, result) => {
      if (err) return reject(err);
      const ns = /<(\w+):Envelope[^>]*xmlns:\1="([^"]+)"/.exec(client.lastRequest || "");
      const type = (client.lastRequestHeaders || {})["Content-Type"] || "";
      envelopes.add(`${ns ? ns[2] : "?"} ${String(type).split(";")[0]}`);
      resolve(result ? result[`${name}Result`] : null);
    });
  });
}

module.exports = { soapCall };
