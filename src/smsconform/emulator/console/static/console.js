// The emulator's web console: a client of the control API (/_emulator/...) and nothing else.
// It renders with textContent only (message texts come from any client and are never markup), and
// redraws the view in front when the server-sent events of /_emulator/events say something changed.
"use strict";

const API = "/_emulator";
const TOKEN_HEADER = "X-Emulator-Token";
const state = { view: "messages", filters: {}, before: null, selected: null, number: null, epoch: 0,
                frozen: true, clockAt: 0, token: sessionStorage.getItem("smsconform-token") || "" };

function $(sel) { return document.querySelector(sel); }

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(text) { $("#live").textContent = text; }

async function api(method, route, body, retried = false) {
  const sent = state.token;
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (sent) headers[TOKEN_HEADER] = sent;
  const response = await fetch(API + route, { method, headers, credentials: "same-origin",
                                             body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (response.status === 401 && !retried) {
    // asked once: requests refused meanwhile (they were sent with the old token) go again with the new one
    if (state.token === sent) askToken(data.error);
    if (state.token !== sent) return api(method, route, body, true);
  }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function askToken(why) {
  const token = window.prompt(`The control API refused the console (${why || "no token"}). Its token:`);
  if (token) { state.token = token; sessionStorage.setItem("smsconform-token", token); if (stream) connect(); }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

function time(iso) { return iso ? iso.replace("T", " ").slice(0, 19) : ""; }

// -- the clock -----------------------------------------------------------------------------------
// epoch seconds in the emulator's local time (Brasília, -03:00), as the control API's ISO times are
function brt(epoch) { return new Date((epoch - 3 * 3600) * 1000).toISOString().replace("T", " ").slice(0, 19); }

function showClock() {
  const now = state.frozen ? state.epoch : state.epoch + (Date.now() - state.clockAt) / 1000;
  $("#clock-now").textContent = `${brt(now)} BRT`;
  $("#clock-state").textContent = state.frozen ? "frozen" : "running";
  $("#clock-toggle").textContent = state.frozen ? "Run" : "Freeze";
}

function takeClock(data) {
  state.epoch = data.epoch; state.frozen = data.frozen; state.clockAt = Date.now(); showClock();
}

async function advance(seconds) {
  takeClock(await api("POST", "/clock", { advance: seconds }));
  say(`Clock moved ${seconds} s.`);
}

// -- messages ------------------------------------------------------------------------------------
function messageRow(m) {
  const open = el("button", { type: "button", class: "link", onclick: () => openMessage(m.id),
                              "aria-label": `Open the message to ${m.number}: ${m.text.slice(0, 40)}` },
                  time(m.created_at));
  const phone = el("button", { type: "button", class: "link", onclick: () => openPhone(m.number),
                               "aria-label": `Open the phone ${m.number}` }, m.number);
  return el("tr", { "data-id": m.id, "data-state": m.state, class: m.id === state.selected ? "selected" : "" },
    el("td", {}, open), el("td", {}, phone), el("td", { class: "text" }, m.text),
    el("td", {}, `${m.parts} · ${m.encoding}`), el("td", {}, m.dialect), el("td", {}, m.account || ""),
    el("td", {}, m.kind), el("td", {}, el("span", { class: `status s-${m.state}` }, m.state)));
}

async function loadMessages(append = false) {
  const params = { ...state.filters, before: append ? state.before : null };
  const page = await api("GET", `/messages/page${query(params)}`);
  const body = $("#messages tbody");
  if (!append) body.replaceChildren();
  for (const m of page.items) body.append(messageRow(m));
  state.before = page.next_before;
  $("#more").hidden = page.next_before === null;
  $("#empty").hidden = body.children.length > 0;
}

function field(dl, name, value) {
  if (value === null || value === undefined || value === "") return;
  dl.append(el("dt", {}, name), el("dd", {}, value));
}

function pre(label, text) {
  return el("figure", {}, el("figcaption", {}, label), el("pre", {}, text));
}

// Retries run on wall time (a receiver that is down is a real-world fact), the timeline on the virtual clock.
function wall(epoch) { return brt(epoch).slice(11); }

const SCHEDULE_SHOWN = 5;   // the first planned retries in full; the rest as a count and the last one

function callbackView(c, policy) {
  const attempts = el("table", { class: "attempts" },
    el("caption", { class: "visually-hidden" }, `Attempts of the ${c.kind} callback`),
    el("thead", {}, el("tr", {}, ...["#", "Virtual time", "Wall time", "URL", "Answer"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...c.attempts.map((a, i) => el("tr", { "data-ok": a.error ? "no" : "yes", "data-wall": a.wall },
      el("td", {}, i + 1), el("td", {}, time(a.at)), el("td", {}, wall(a.wall)), el("td", { class: "url" }, c.url),
      el("td", {}, a.answer || a.error || "")))));
  const shown = c.retry_schedule.slice(0, SCHEDULE_SHOWN), rest = c.retry_schedule.slice(SCHEDULE_SHOWN);
  const schedule = el("ol", { class: "schedule", "aria-label": "Planned attempts, should each one fail" },
    ...shown.map(r => el("li", { "data-attempt": r.attempt, "data-wall": r.wall },
      `attempt ${r.attempt} at ${wall(r.wall)}`)),
    rest.length ? el("li", { class: "more", "data-attempt": rest[rest.length - 1].attempt, "data-wall": rest[rest.length - 1].wall },
      `… ${rest.length} more, the last (attempt ${rest[rest.length - 1].attempt}) at ${wall(rest[rest.length - 1].wall)}`) : null);
  return el("section", { class: "callback", "data-kind": c.kind },
    el("p", {}, el("strong", {}, `${c.kind} · ${c.method} `), c.url),
    el("p", { class: "callback-state" }, c.delivered_at ? `delivered ${time(c.delivered_at)}` :
      c.pending ? (c.attempts.length ? `failed ${c.attempts.length}×, retrying` : "due") : `given up: ${c.last_error || ""}`),
    c.body ? pre("body", c.body) : null,
    c.attempts.length ? el("div", { class: "scroll" }, attempts) : el("p", {}, "Not tried yet."),
    c.retry_schedule.length ? el("p", {}, "Retry schedule:") : null,
    c.retry_schedule.length ? schedule : null,
    el("p", { class: "policy" }, `Policy: retried after ${policy.retry_seconds.join(", ")} s (the last repeating),` +
      ` at most ${policy.give_up_after} attempts.`));
}

async function openMessage(id, quiet = false) {
  state.selected = id;
  const m = await api("GET", `/message${query({ id })}`);
  $("#detail").hidden = false;
  $("#detail-title").textContent = `Message ${m.id} to ${m.number}`;
  const dl = $("#detail-fields"); dl.replaceChildren();
  field(dl, "Status", m.state); field(dl, "Text", m.text);
  field(dl, "Parts", `${m.parts} (${m.encoding})`); field(dl, "Dialect", m.dialect);
  field(dl, "Account", m.account); field(dl, "Kind", m.kind); field(dl, "Protocol", m.hash);
  field(dl, "Scheduled for", time(m.schedule_at)); field(dl, "Campaign", m.campaign);
  field(dl, "External id", m.external_id); field(dl, "Outcome chosen", m.outcome); field(dl, "Credits", m.cost);
  $("#detail-timeline").replaceChildren(...m.timeline.map(
    s => el("li", { "data-state": s.state }, el("span", { class: `status s-${s.state}` }, s.state), " ", time(s.at))));
  $("#detail-callbacks").replaceChildren(...(m.callbacks.length ? m.callbacks.map(c => callbackView(c, m.retry_policy))
    : [el("p", {}, "No callback (no URL registered for this message's kind).")]));
  $("#detail-exchanges").replaceChildren(...(m.exchanges.length ? m.exchanges.map(e => el("section", { class: "exchange" },
    pre(`${e.method} ${e.path}${e.query.length ? "?" + e.query.map(([k, v]) => `${k}=${v}`).join("&") : ""}`, e.body || "(no body)"),
    pre(`answer ${e.status}`, e.response))) : [el("p", {}, "Not in the journal (it keeps the last 10,000 requests).")]));
  for (const row of document.querySelectorAll("#messages tr.selected")) row.classList.remove("selected");
  const row = document.querySelector(`#messages tr[data-id="${id}"]`);
  if (row) row.classList.add("selected");
  if (!quiet) $("#detail-title").focus();
}

// -- the phone -----------------------------------------------------------------------------------
function openPhone(number) {
  state.number = number;
  $("#phone-open [name=number]").value = number;
  location.hash = "#phone";
  show("phone");
}

async function loadPhone() {
  if (!state.number) { $("#phone").hidden = true; return; }
  const data = await api("GET", `/conversation${query({ number: state.number })}`);
  $("#phone").hidden = false;
  $("#phone-number").textContent = data.number;
  state.lastMT = [...data.items].reverse().find(i => i.direction === "mt") || null;
  $("#conversation").replaceChildren(...data.items.map(i => el("li", { class: `bubble ${i.direction}` },
    el("span", { class: "who" }, i.direction === "mt" ? `to the handset · ${i.dialect} · ${i.state}` : "from the handset"),
    el("span", { class: "body" }, i.text), el("time", {}, time(i.created_at)))));
}

async function reply(text) {
  const body = { number: state.number, text };
  if (state.lastMT) { body.reply_to = state.lastMT.hash; body.account = state.lastMT.account; }
  const made = await api("POST", "/mo", body);
  say(`Reply ${made.id} sent from ${state.number}.`);
  $("#reply-text").value = "";
  await loadPhone();
}

// -- accounts, outcomes, faults, reset --------------------------------------------------------------
async function loadSettings() {
  const [accounts, outcomes, faults] = await Promise.all([api("GET", "/accounts"), api("GET", "/outcomes/list"),
                                                         api("GET", "/faults")]);
  $("#accounts tbody").replaceChildren(...accounts.map(a => el("tr", {},
    el("td", {}, a.login), el("td", {}, a.fixture || ""), el("td", {}, a.integration_user || ""),
    el("td", {}, a.active && a.client_active ? "yes" : "no"),
    el("td", {}, Object.entries(a.credits || {}).map(([k, v]) => `${k} ${v}`).join(", ")))));
  $("#outcome-list").replaceChildren(...outcomes.map(o => el("li", {}, `${o.number}: ${o.outcome}`)));
  $("#fault-list").replaceChildren(...faults.map(f => el("li", {},
    `${f.kind} on ${f.path || "every dialect"}, ${Math.round(f.rate * 100)} %` +
    `${f.ms ? `, ${f.ms} ms` : ""}${f.remaining !== null ? `, ${f.remaining} more` : ""}`)));
}

function formData(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) if (v !== "") out[k] = v;
  return out;
}

// -- views and the live stream -----------------------------------------------------------------------
function show(view) {
  state.view = view;
  for (const v of ["messages", "phone", "settings"]) $(`#view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll("nav a"))
    a.toggleAttribute("aria-current", a.dataset.view === view);
  refresh();
}

let pending = null;
function refresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    try {
      if (state.view === "messages") {
        await loadMessages();
        if (state.selected !== null && !$("#detail").hidden) await openMessage(state.selected, true);
      } else if (state.view === "phone") await loadPhone();
      else await loadSettings();
    } catch (error) { say(`The control API: ${error.message}`); }
  }, 50);
}

let stream = null;
function connect() {
  if (stream) stream.close();
  stream = new EventSource(`${API}/events${state.token ? query({ token: state.token }) : ""}`);
  stream.addEventListener("change", event => { takeClock(JSON.parse(event.data)); refresh(); });
  stream.onerror = () => say("Live updates paused; reconnecting…");
  stream.onopen = () => say("");
}

async function start() {
  const vocabulary = await api("GET", "/vocabulary");
  for (const s of vocabulary.states) $("#filters [name=state]").append(el("option", {}, s));
  for (const d of vocabulary.dialects) $("#filters [name=dialect]").append(el("option", {}, d));
  for (const o of vocabulary.outcomes) $("#outcomes [name=outcome]").append(el("option", {}, o));
  takeClock(await api("GET", "/clock"));
  setInterval(showClock, 1000);

  for (const b of document.querySelectorAll("[data-advance]"))
    b.addEventListener("click", () => advance(Number(b.dataset.advance)).catch(e => say(e.message)));
  $("#clock-toggle").addEventListener("click", async () => takeClock(await api("POST", "/clock", { frozen: !state.frozen })));
  $("#filters").addEventListener("submit", event => {
    event.preventDefault();
    const f = formData(event.target);
    // datetime-local is the emulator's local time (Brasília, -03:00); the control API takes epoch seconds
    for (const key of ["since", "until"]) if (f[key]) f[key] = Date.parse(`${f[key].length === 16 ? `${f[key]}:00` : f[key]}-03:00`) / 1000;
    state.filters = f; refresh();
  });
  $("#filters").addEventListener("reset", () => { state.filters = {}; setTimeout(refresh); });
  $("#more").addEventListener("click", () => loadMessages(true).catch(e => say(e.message)));
  $("#detail-close").addEventListener("click", () => { $("#detail").hidden = true; state.selected = null; });
  $("#phone-open").addEventListener("submit", event => {
    event.preventDefault(); state.number = formData(event.target).number; refresh();
  });
  $("#reply").addEventListener("submit", event => {
    event.preventDefault(); reply($("#reply-text").value).catch(e => say(e.message));
  });
  $("#credits").addEventListener("submit", async event => {
    event.preventDefault();
    const f = formData(event.target);
    const made = await api("POST", "/credits", { account: f.account, kind: f.kind, amount: Number(f.amount) })
      .catch(e => say(e.message));
    if (made) { say(`${f.account} has ${made.balance} ${made.kind} credits.`); refresh(); }
  });
  $("#outcomes").addEventListener("submit", async event => {
    event.preventDefault();
    await api("POST", "/outcomes", formData(event.target)).catch(e => say(e.message));
    refresh();
  });
  $("#faults").addEventListener("submit", async event => {
    event.preventDefault();
    const f = formData(event.target);
    const body = { kind: f.kind, rate: Number(f.rate || 1), path: f.path || "", ms: Number(f.ms || 0) };
    if (f.count) body.count = Number(f.count);
    await api("POST", "/faults", body).catch(e => say(e.message));
    refresh();
  });
  $("#faults-clear").addEventListener("click", async () => { await api("DELETE", "/faults"); refresh(); });
  $("#reset").addEventListener("click", () => { $("#reset-confirm").hidden = false; $("#reset-no").focus(); });
  $("#reset-no").addEventListener("click", () => { $("#reset-confirm").hidden = true; $("#reset").focus(); });
  $("#reset-yes").addEventListener("click", async () => {
    await api("POST", "/reset", {}); $("#reset-confirm").hidden = true; say("The emulator was reset."); refresh();
  });
  window.addEventListener("hashchange", () => show(location.hash.slice(1) || "messages"));
  show(["messages", "phone", "settings"].includes(location.hash.slice(1)) ? location.hash.slice(1) : "messages");
  connect();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => start().catch(e => say(`The console could not start: ${e.message}`)));
