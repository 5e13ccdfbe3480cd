// The page of a socius world: connects with the token from the address (#token=...), then
// draws what the world sends: snapshots, ticks, panels; and lets the token do what it may.
import { Charts } from "./charts.js";
import { el } from "./dom.js";
import { Feed } from "./feed.js";
import { Graph, ROLE_COLOURS } from "./graph.js";
import { renderPanel } from "./panel.js";
import { Play } from "./play.js";

const $ = (s) => document.querySelector(s);
// updates: how long the page took to take in each tick (ms), for bench/view_cost.py
const state = { roster: null, hello: null, tick: 0, ws: null, messages: 0, updates: [] };

function showError(text) {
  const box = $("#error");
  box.textContent = text;
  box.hidden = !text;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  else showError("not connected to the world; reload the page");
}

const graph = new Graph($("#graph"), (id) => openPanel(id));
const charts = new Charts($("#charts"), $("#figures"));
const feed = new Feed($("#feed"), $("#feed-kind"), $("#feed-who"), () => state.roster?.names || []);
const play = new Play(send, $("#play"));
window.socius = { state, graph, charts, feed, play };

function openPanel(id) {
  graph.selected = id;
  graph.draw();
  const box = $("#panel");
  box.hidden = false;
  box.replaceChildren(el("p", {}, `reading ${state.roster?.names[id] ?? id}…`));
  send({ op: "panel", id });
}

function setTick(t) {
  state.tick = t;
  $("#tick").textContent = `tick ${t}`;
  $("#tick").dataset.tick = String(t);
}

function legend(roster) {
  $("#legend").replaceChildren(...roster.role_names.map((r, i) => el("span", {}, el("i", { style: `background:${ROLE_COLOURS[i % ROLE_COLOURS.length]}` }), r)));
}

function aggregates(a) {
  if (!a || !state.roster) return;
  const names = state.roster.role_names;
  $("#aggregates").replaceChildren(
    el("tr", {}, el("th", {}, "role"), el("th", {}, "count"), el("th", {}, "mean wealth"), el("th", {}, "mean health")),
    ...a.by_role.map((r) => el("tr", { "data-role": names[r.key] }, el("td", {}, names[r.key]), el("td", { class: "value" }, r.count), el("td", { class: "value" }, r.wealth), el("td", { class: "value" }, r.health))));
}

function snapshot(m) {
  state.roster = m.roster;
  if (m.world) $("#world-name").textContent = m.world.name;
  graph.setRoster(m.roster);
  graph.wealth.clear();
  graph.update(m.people, m.edges || []);
  legend(m.roster);
  $("#graph-note").textContent = m.roster.sampled
    ? `${m.roster.sample.length} of ${m.roster.size} characters drawn (an even sample; search finds anyone)`
    : `${m.roster.size} characters`;
  aggregates(m.aggregates);
  charts.reset(m.history || []);
  feed.reset(m.events || []);
  setTick(m.tick);
  if (m.world && m.world.recorded) scrubNote(m.world);
  if (m.ended) $("#conn").textContent = `connected; ${m.ended}`;
}

function scrubNote(w) {
  const s = $("#scrub");
  s.max = String(w.last);
  s.value = String(w.shown_tick);
  $("#scrub-tick").textContent = String(w.shown_tick);
  $("#scrub-note").textContent = w.from_start
    ? `characters as at the start (tick 0): no checkpoint kept at or before tick ${w.shown_tick}; figures and events of tick ${w.shown_tick}`
    : `characters from the checkpoint of tick ${w.checkpoint}; figures and events of tick ${w.shown_tick}`;
  $("#scrub-note").dataset.checkpoint = String(w.checkpoint);
}

function tick(m) {
  const t0 = performance.now();
  take(m);
  state.updates.push(performance.now() - t0);
  if (state.updates.length > 1000) state.updates.shift();
}

function take(m) {
  setTick(m.tick);
  if (m.figures) charts.add({ tick: m.tick, ...m.figures });
  if (m.people || m.edges) graph.update(m.people, m.edges);
  aggregates(m.aggregates);
  feed.add(m.events || []);
}

function hello(m) {
  state.hello = m;
  $("#role").textContent = m.role === "player" ? `player of #${m.character}` : m.role;
  $("#conn").textContent = "connected";
  $("#controls").hidden = !m.controls;
  $("#scrubber").hidden = !m.recorded;
  if (m.play) send({ op: "join" });
}

const handlers = {
  hello,
  snapshot,
  tick,
  refused: (m) => { showError(m.message); $("#conn").textContent = "refused"; },
  error: (m) => showError(m.message),
  panel: (m) => { showError(""); renderPanel($("#panel"), m.panel, () => { $("#panel").hidden = true; graph.selected = null; graph.draw(); }, openPanel); },
  joined: (m) => play.joined(m),
  perception: (m) => play.perceive(m),
  acted: (m) => { showError(""); play.note(m.note, "acted"); },
  status: (m) => { $("#control-status").textContent = `${m.paused ? "paused" : "running"} at tick ${m.tick} of ${m.ticks}`; },
  intervened: (m) => { showError(""); $("#control-status").textContent = `event ${m.index} set off for ticks ${m.first}..${m.last}: ${m.event}`; },
  ended: (m) => { $("#conn").textContent = `connected; ${m.reason}`; },
};

function connect() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!token) {
    showError("no token: open the address the socius command printed (it ends in #token=...)");
    $("#conn").textContent = "no token";
    return;
  }
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ op: "hello", token }));
  ws.onmessage = (e) => {
    state.messages += 1;
    let m;
    try { m = JSON.parse(e.data); } catch { return showError("the world sent something unreadable"); }
    const h = handlers[m.type];
    if (h) h(m);
  };
  ws.onclose = (e) => {
    if (e.code !== 4001) showError(`connection to the world closed (${e.code}${e.reason ? ": " + e.reason : ""}); reload to reconnect`);
    $("#conn").textContent = e.code === 4001 ? "refused" : "disconnected";
  };
}

// search by name
$("#search").addEventListener("input", () => {
  const q = $("#search").value.trim().toLowerCase();
  const box = $("#found");
  const names = state.roster?.names || [];
  if (!q) { box.hidden = true; graph.marked.clear(); graph.draw(); return; }
  const hits = [];
  for (let i = 0; i < names.length && hits.length < 50; i++) if (names[i].toLowerCase().includes(q)) hits.push(i);
  graph.marked = new Set(hits);
  graph.draw();
  box.replaceChildren(...hits.map((id) => el("li", { "data-character": id, onclick: () => { box.hidden = true; openPanel(id); } }, `${names[id]} (#${id}, ${state.roster.role_names[state.roster.roles[id]]})`)));
  box.hidden = hits.length === 0;
});

// operator controls
$("#pause").addEventListener("click", () => send({ op: "control", what: "pause" }));
$("#resume").addEventListener("click", () => send({ op: "control", what: "resume" }));
$("#step").addEventListener("click", () => send({ op: "control", what: "step", ticks: 1 }));
// an example of each kind of event (world/events.py), to edit before setting it off; without
// tick or ticks it happens at the next tick
const EXAMPLES = {
  famine: { kind: "famine", ticks: [0, 0], target: { groups: [0] }, factor: 0.3 },
  plenty: { kind: "plenty", ticks: [0, 0], factor: 2.0 },
  plague: { kind: "plague", target: { share: 0.2 }, chance: 0.5, severity: 0.4 },
  rumour: { kind: "rumour", about: 0, claim: "bad", target: { groups: [1] } },
  cut_ties: { kind: "cut_ties", target: { groups: [0] }, with: { groups: [1] }, mode: "hostile" },
  exile: { kind: "exile", target: { characters: [0] }, group: 1 },
  norm: { kind: "norm", norm: "image_scoring" },
  windfall: { kind: "windfall", good: "food", amount: 3, target: { roles: ["child"] } },
  tax: { kind: "tax", good: "coin", rate: 0.1 },
};
$("#event-kind").addEventListener("change", (e) => {
  const example = EXAMPLES[e.target.value];
  if (!example) return;
  const next = (state.tick || 0) + 1;
  const filled = { ...example };
  if (filled.ticks) filled.ticks = [next, next + 9];
  $("#event").value = JSON.stringify(filled);
});
$("#intervene").addEventListener("click", () => {
  let event;
  try { event = JSON.parse($("#event").value); } catch (e) { return showError(`the event is not JSON: ${e.message}`); }
  send({ op: "control", what: "intervene", event });
});
$("#set-interval").addEventListener("click", () => send({ op: "control", what: "interval", seconds: Number($("#interval").value) }));

// a recorded run's time slider
let scrubTimer = null;
$("#scrub").addEventListener("input", () => {
  $("#scrub-tick").textContent = $("#scrub").value;
  clearTimeout(scrubTimer);
  scrubTimer = setTimeout(() => send({ op: "scrub", tick: Number($("#scrub").value) }), 150);
});

window.addEventListener("error", (e) => showError(`the page failed: ${e.message}`));
connect();
