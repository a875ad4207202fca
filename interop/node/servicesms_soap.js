// Drive the npm package `soap` (node-soap) against the emulator's ServiceSms.asmx (painel's web service):
// the client is built from the served WSDL (BASE_URL/painel/ServiceSms.asmx?WSDL) and runs all six
// operations, over SOAP 1.1 or 1.2.
//
//   node servicesms_soap.js BASE_URL USER PWD 1.1|1.2 < scenario.json
//
// stdin: the scenario (the numbers, the text, the reference of a campaign the test sent through api.ashx).
// The once-a-minute queries (GetBalance, GetStatus, GetStatusByRef) are a minute apart: the driver moves
// the emulator's clock through its control API between them, as waiting a minute would.
// stdout: one JSON object, each operation's result as node-soap read it (a string, or for a DataSet the
// two parts node-soap parsed: its inline schema and its diffgram), and the envelopes the client sent.
"use strict";
const soap = require("soap");
const { soapCall } = require("./soap_call");

const [baseUrl, user, pwd, version] = process.argv.slice(2);
const scenario = JSON.parse(require("fs").readFileSync(0, "utf8"));
const soap12 = version === "1.2";

async function aMinute() {
  const moved = await fetch(`${baseUrl}/_emulator/clock`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ advance: 61 }),
  });
  if (!moved.ok) throw new Error(`control API /_emulator/clock answered ${moved.status}`);
}

async function main() {
  const client = await soap.createClientAsync(`${baseUrl}/painel/ServiceSms.asmx?WSDL`,
                                              { forceSoap12Headers: soap12 });
  const port = client.ServiceSms[soap12 ? "ServiceSmsSoap12" : "ServiceSmsSoap"];
  const envelopes = new Set();
  const call = soapCall(client, port, envelopes, { User: user, Pwd: pwd });
  const out = {};
  await aMinute();  // whatever queried the balance before: a minute has passed
  out.GetBalance = await call("GetBalance", {});
  out.SendSMS = await call("SendSMS", { SmsMessage: {
    Subject: scenario.subject, Msg: scenario.text,
    Destinations: { Destination: scenario.numbers.map((n) => ({ Number: n })) } } });
  const campaign = Number(String(out.SendSMS).split(":")[0]);
  out.SetHoldSMS = await call("SetHoldSMS", { Id: campaign });
  out.SetReleaseSMS = await call("SetReleaseSMS", { Id: campaign });
  await aMinute();
  out.GetStatus = await call("GetStatus", { Id: campaign });
  await aMinute();
  out.GetStatusByRef = await call("GetStatusByRef", { Id: scenario.reference.id, Ref: scenario.reference.ref });
  await aMinute();
  out.GetBalanceAfter = await call("GetBalance", {});
  out.envelopes = [...envelopes];
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
