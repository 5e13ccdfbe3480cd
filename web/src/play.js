// Living as a character: what it perceives as it happens, its decisions with their options
// and time left, words to say, and "done". Every act goes to the world's service (the same
// checks as a gRPC player's); refusals come back as messages.
import { el } from "./dom.js";

export class Play {
  constructor(send, box) {
    this.send = send;
    this.box = box;
    this.decisions = box.querySelector("#decisions");
    this.perceptions = box.querySelector("#perceptions");
    this.words = box.querySelector("#words");
    this.open = new Map(); // decision id -> {card, deadline}
    this.tick = 0;
    box.querySelector("#done").addEventListener("click", () => this.send({ op: "act", done: true }));
    setInterval(() => this.countdown(), 500);
  }

  joined(reply) {
    this.box.hidden = false;
    this.box.querySelector("#me").textContent = `#${reply.character}, ${reply.role} of group ${reply.group}`;
    this.tick = reply.tick;
  }

  note(text, kind = "note") {
    this.perceptions.prepend(el("li", { "data-kind": kind }, text));
    while (this.perceptions.children.length > 200) this.perceptions.lastChild.remove();
  }

  perceive(p) {
    if (p.decision && p.decision.id) return this.decide(p.tick, p.decision, p.who);
    if (p.outcome && p.outcome.decision) {
      const o = this.open.get(p.outcome.decision);
      if (o) {
        o.card.classList.add("closed");
        o.left.textContent = p.outcome.by_player ? `you chose ${p.outcome.action}` : `its own mind chose ${p.outcome.action}`;
        this.open.delete(p.outcome.decision);
      }
      return this.note(`tick ${p.tick}: ${p.outcome.action}${p.outcome.by_player ? " (yours)" : " (your character's own mind chose)"}`, "outcome");
    }
    if (p.tick_ended && p.tick_ended.tick) return this.note(`tick ${p.tick_ended.tick} ended`, "tick");
    if (p.world_ended && p.world_ended.reason) return this.note(`the world ended: ${p.world_ended.reason}`, "ended");
    if (p.envelope) {
      const env = p.envelope;
      const body = Object.keys(env).find((k) => !["sender", "recipient", "seq", "tick", "said"].includes(k) && env[k] && typeof env[k] === "object") || "act";
      const said = p.words || env.said?.text || "";
      this.note(`tick ${p.tick}: ${p.who || env.sender} — ${body}${said ? `: "${said}"` : ""}`, body);
    }
  }

  decide(tick, d, who) {
    const deadline = Date.now() + 1000 * Number(d.seconds_left || 0);
    const left = el("span", { class: "left" });
    const card = el("div", { class: "decision", "data-id": d.id, "data-situation": d.situation },
      el("div", {}, `tick ${tick}: ${d.situation} with ${who || d.counterpart} `, left),
      d.options.map((o) => el("button", {
        class: "option", "data-action": o.action, title: o.terms || "",
        onclick: () => this.send({ op: "act", decision: d.id, action: o.action, words: this.words.value }),
      }, `${o.action}: ${o.does}`)));
    this.decisions.prepend(card);
    this.open.set(d.id, { card, deadline, left });
    this.countdown();
  }

  countdown() {
    for (const { deadline, left } of this.open.values()) {
      left.textContent = `${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left`;
    }
  }
}
