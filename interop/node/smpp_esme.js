// Drive the npm package `smpp` (node-smpp) as an ESME of the emulator, with the library's defaults
// (interface_version 0x50, data_coding picked from the text: 0x01 ASCII, 0x03 LATIN1, 0x08 UCS2).
//
//   node smpp_esme.js HOST PORT SYSTEM_ID PASSWORD SYSTEM_TYPE TIMEOUT_SECONDS < messages.json
//
// stdin: a JSON list of {"tag", "text", "destination"}. stdout: one JSON object with the bind answer,
// each submit_sm_resp by tag (status, message_id, the data_coding the library chose) and every receipt
// (receipted_message_id, the short_message text). The test judges them; this script only drives.
// It ends when every accepted message has a final receipt, or after TIMEOUT_SECONDS.
"use strict";
const smpp = require("smpp");

const [host, port, systemId, password, systemType, timeoutSeconds] = process.argv.slice(2);
const SOURCE = "5511930000000"; // the ESME's own long number, TON 1 NPI 1 as the seed's SMPP section says
const INTERMEDIATE = new Set(["ENROUTE", "ACCEPTD"]);

const messages = JSON.parse(require("fs").readFileSync(0, "utf8"));
const result = { bind: null, submits: {}, receipts: [], errors: [] };
let finished = false;

function receiptStat(text) {
  const match = /stat:(\w+)/.exec(text || "");
  return match ? match[1] : null;
}

function done() {
  const answered = Object.keys(result.submits).length;
  if (result.bind === null || (result.bind.status === 0 && answered < messages.length)) return false;
  return Object.values(result.submits)
    .filter((s) => s.status === 0)
    .every((s) => result.receipts.some((r) => r.id === s.message_id && !INTERMEDIATE.has(r.stat)));
}

function finish(session) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(result) + "\n");
  session.close();
  setTimeout(() => process.exit(0), 200).unref();
}

const session = smpp.connect({ url: `smpp://${host}:${port}` });
const timer = setTimeout(() => finish(session), Number(timeoutSeconds) * 1000);
session.on("error", (err) => { result.errors.push(String(err)); clearTimeout(timer); finish(session); });
session.on("deliver_sm", (pdu) => {
  const text = pdu.short_message && pdu.short_message.message !== undefined
    ? String(pdu.short_message.message) : String(pdu.short_message || "");
  result.receipts.push({
    id: pdu.receipted_message_id || (/id:(\S+)/.exec(text) || [])[1] || null,
    stat: receiptStat(text), esm_class: pdu.esm_class, text,
  });
  session.send(pdu.response());
  if (done()) { clearTimeout(timer); finish(session); }
});
session.on("connect", () => {
  session.bind_transceiver({ system_id: systemId, password, system_type: systemType }, (bound) => {
    result.bind = { status: bound.command_status, sc_interface_version: bound.sc_interface_version ?? null };
    if (bound.command_status !== 0) { clearTimeout(timer); finish(session); return; }
    for (const m of messages) {
      const pdu = new smpp.PDU("submit_sm", {
        source_addr_ton: 1, source_addr_npi: 1, source_addr: SOURCE,
        dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: m.destination,
        short_message: m.text, registered_delivery: 1,
      });
      const dataCoding = pdu.data_coding;
      session.send(pdu, (resp) => {
        result.submits[m.tag] = { status: resp.command_status, message_id: resp.message_id, data_coding: dataCoding };
        if (done()) { clearTimeout(timer); finish(session); }
      });
    }
  });
});
