// The peer of benchmarks/bench_smpp.py: npm `smpp` (node-smpp) as a minimal SMSC, which binds anyone and
// answers submit_sm with submit_sm_resp and a message id, enquire_link and unbind, and does nothing else
// (no storage, no lifecycle, no receipts): the ceiling of what one bind can carry through that library.
//
//   node smpp_smsc.js PORT        (prints "listening PORT" when ready; ends on SIGTERM)
"use strict";
const smpp = require("smpp");

const port = Number(process.argv[2]);
let next = 0;
const server = smpp.createServer({}, (session) => {
  session.on("error", () => session.close());
  for (const bind of ["bind_transceiver", "bind_transmitter", "bind_receiver"]) {
    session.on(bind, (pdu) => session.send(pdu.response({ system_id: "NODESMSC" })));
  }
  session.on("submit_sm", (pdu) => session.send(pdu.response({ message_id: String(++next) })));
  session.on("enquire_link", (pdu) => session.send(pdu.response()));
  session.on("unbind", (pdu) => { session.send(pdu.response()); session.close(); });
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
process.on("SIGTERM", () => process.exit(0));
