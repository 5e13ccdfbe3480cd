// Inside a character: self-model, goods, needs and health, hidden feelings beside what it
// showed (when the token may see them), relationships, memories, promises, timeline.
import { el, rows } from "./dom.js";

const EMOTIONS = ["joy", "gratitude", "anger", "sadness", "fear"];

function feelings(hidden, shown) {
  const head = el("tr", {}, el("th", {}, "feeling"), hidden ? el("th", {}, "felt (hidden)") : null, el("th", {}, "shown"));
  const body = EMOTIONS.map((e) =>
    el("tr", { "data-emotion": e },
      el("th", {}, e),
      hidden ? el("td", { class: "value hidden-value" }, (hidden[e] ?? 0).toFixed(2)) : null,
      el("td", { class: "value shown-value" }, shown ? (shown[e] ?? 0).toFixed(2) : "–")));
  return el("table", { class: "feel" }, head, body);
}

function promise(p) {
  return el("li", {}, `${p.promisor_name} → ${p.promisee_name}: ${p.what?.amount ?? 0} ${String(p.what?.good ?? "").toLowerCase()} due tick ${p.due_tick} (${p.state})`);
}

export function renderPanel(box, p, onClose, onPick) {
  const goods = Object.entries(p.goods || {}).map(([g, n]) => `${n} ${g}`).join(", ");
  const parts = [
    el("button", { class: "close", onclick: onClose }, "×"),
    el("h2", { "data-field": "name" }, `${p.name} `, el("small", {}, `#${p.character ?? p.id}`)),
    rows([
      ["role", p.role],
      ["group", p.group],
      ["culture", p.culture],
      ["mind", p.mind],
      ["personality", Object.entries(p.traits || {}).map(([k, v]) => `${k} ${v}`).join(", "), "traits"],
      ["boundaries", (p.boundaries || []).join(", ") || "none"],
      ["backstory", p.backstory],
      ["goods", goods],
      ["health", p.health],
      ["hunger", p.hunger],
      ["sick", p.sick ? "yes" : "no"],
      ["need", p.need],
    ]),
    el("h3", {}, "feelings"),
    p.hidden ? null : el("p", { class: "hidden-note" }, "what it truly feels is hidden from this token"),
    feelings(p.hidden, p.shown),
    el("h3", {}, "relationships"),
    el("table", { class: "relationships" },
      el("tr", {}, ["who", "trust", "affinity", "betrayals", "kept", "trades", "met"].map((h) => el("th", {}, h))),
      (p.relationships || []).slice(0, 30).map((r) =>
        el("tr", { "data-character": r.character },
          el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); onPick(r.character); } }, r.name)),
          el("td", { class: "value" }, r.trust), el("td", { class: "value" }, r.affinity),
          el("td", { class: "value" }, r.betrayals), el("td", { class: "value" }, r.kept),
          el("td", { class: "value" }, r.trades), el("td", { class: "value" }, r.meetings)))),
    el("h3", {}, "memories"),
    el("ol", { class: "memories" }, (p.memories || []).map((m) =>
      el("li", {}, `tick ${m.tick}: ${m.kind} with ${m.name || "—"} (salience ${m.salience}, valence ${m.valence})`))),
    el("h3", {}, "promises"),
    el("div", { class: "promises" },
      el("h4", {}, "it owes"), el("ul", { class: "owes" }, (p.owes || []).map(promise)),
      el("h4", {}, "owed to it"), el("ul", { class: "owed" }, (p.owed || []).map(promise))),
    el("h3", {}, "timeline"),
    el("ol", { class: "timeline" }, (p.timeline || []).map((e) => el("li", { "data-kind": e.kind }, `tick ${e.tick}: ${e.text}`))),
    p.thoughts && p.thoughts.length ? el("h3", {}, "its model's last prompts and answers") : null,
    p.thoughts && p.thoughts.length ? el("ol", { class: "thoughts" }, p.thoughts.map((t) =>
      el("li", {}, el("details", {},
        el("summary", {}, `tick ${t.tick}: ${t.situation} with #${t.counterpart}${t.valid ? "" : " (invalid answer)"}`),
        el("pre", { class: "prompt" }, t.prompt),
        el("pre", { class: "answer" }, t.answer ?? "(no answer)"))))) : null,
  ];
  box.replaceChildren(...parts.filter((x) => x));
  box.hidden = false;
  box.dataset.character = String(p.character ?? p.id);
}
