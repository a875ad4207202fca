// Drive the npm package `soap` (node-soap) against the emulator's wbsapi: the client is built from the
// served WSDL (BASE_URL/wbsapi.asmx?WSDL) and runs all five operations, over SOAP 1.1 or 1.2.
//
//   node wbsapi_soap.js BASE_URL IDENTIFICACAO 1.1|1.2 < scenario.json
//
// stdin: the scenario (numbers, texts, the schedule and the MO text; the test owns the data). The MO that
// inBox reads is injected through the emulator's control API, as a handset's reply would arrive.
// stdout: one JSON object, each operation's result string and the envelopes the client sent
// (namespace and Content-Type).
"use strict";
const soap = require("soap");
const { soapCall } = require("./soap_call");

const [baseUrl, identificacao, version] = process.argv.slice(2);
const scenario = JSON.parse(require("fs").readFileSync(0, "utf8"));
const soap12 = version === "1.2";

async function main() {
  const client = await soap.createClientAsync(`${baseUrl}/wbsapi.asmx?WSDL`, { forceSoap12Headers: soap12 });
  const port = client.WBSAPI[soap12 ? "WBSAPISoap12" : "WBSAPISoap"];
  const envelopes = new Set();
  const call = soapCall(client, port, envelopes);
  const first = (answer) => answer.split(";")[1];
  const out = {};
  out.sendUnique = await call("sendUnique", { Identificacao: identificacao, Telefone: scenario.unique.number,
                                              Mensagem: scenario.unique.text });
  out.sendUniqueScheduled = await call("sendUnique", {
    Identificacao: identificacao, Telefone: scenario.scheduled.number, Mensagem: scenario.scheduled.text,
    Agenda: new Date(scenario.scheduled.at) });
  out.sendMultiple = await call("sendMultiple", { Identificacao: identificacao, Conteudo: scenario.multiple });
  const hashes = [first(out.sendUnique), ...out.sendMultiple.split(/\r?\n/).filter(Boolean).map(first)];
  out.status = await call("status", { Identificacao: identificacao, Hash: hashes.join(";") });
  out.cancel = await call("cancel", { Identificacao: identificacao, Hash: first(out.sendUniqueScheduled) });
  const mo = await fetch(`${baseUrl}/_emulator/mo`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ number: scenario.unique.number, text: scenario.mo, reply_to: first(out.sendUnique) }),
  });
  if (!mo.ok) throw new Error(`control API /_emulator/mo answered ${mo.status}: ${await mo.text()}`);
  out.inBox = await call("inBox", { Identificacao: identificacao });
  out.envelopes = [...envelopes];
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
