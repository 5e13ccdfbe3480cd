// The events feed, filterable by kind and by character (name or id).
import { el } from "./dom.js";

export class Feed {
  constructor(list, kindSelect, whoInput, names) {
    this.list = list;
    this.kind = kindSelect;
    this.who = whoInput;
    this.names = names;
    this.events = [];
    this.kinds = new Set();
    kindSelect.addEventListener("change", () => this.render());
    whoInput.addEventListener("input", () => this.render());
  }

  reset(events) {
    this.events = events.slice(-1000);
    this.render();
  }

  add(events) {
    this.events.push(...events);
    if (this.events.length > 1000) this.events.splice(0, this.events.length - 1000);
    this.render();
  }

  matches(e) {
    const k = this.kind.value;
    if (k && e.kind !== k) return false;
    const w = this.who.value.trim().toLowerCase();
    if (!w) return true;
    if (/^\d+$/.test(w)) return e.from === Number(w) || e.to === Number(w);
    const names = this.names();
    return [e.from, e.to].some((id) => (names[id] || "").toLowerCase().includes(w));
  }

  render() {
    for (const e of this.events) {
      if (!this.kinds.has(e.kind)) {
        this.kinds.add(e.kind);
        this.kind.append(el("option", { value: e.kind }, e.kind));
      }
    }
    const shown = this.events.filter((e) => this.matches(e)).slice(-300).reverse();
    this.list.replaceChildren(...shown.map((e) => el("li", { "data-kind": e.kind, "data-from": e.from, "data-to": e.to }, `tick ${e.tick}: ${e.text}`)));
  }
}
