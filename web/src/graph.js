// The society as a graph on a canvas: groups as clusters, colour by role, size by wealth,
// edges for the strongest trust (green) and distrust (red). Wheel zooms, dragging pans, a
// click picks the nearest character.
export const ROLE_COLOURS = ["#8bc34a", "#607d8b", "#ab47bc", "#ffa000", "#e53935", "#3949ab", "#26c6da"];

export class Graph {
  constructor(canvas, onPick) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onPick = onPick;
    this.roster = null;
    this.pos = new Map(); // id -> [x, y] in world units
    this.wealth = new Map();
    this.edges = [];
    this.marked = new Set();
    this.selected = null;
    this.view = { x: 0, y: 0, k: 1 };
    this.drawn = [];
    this._wire();
  }

  setRoster(roster) {
    this.roster = roster;
    this.pos.clear();
    const ids = roster.sample;
    const groups = new Map();
    for (const id of ids) {
      const g = roster.groups[id];
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(id);
    }
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const ring = Math.max(1, keys.length);
    // clusters on a ring, far enough apart that the largest does not touch its neighbours
    const largest = Math.max(...[...groups.values()].map((m) => m.length));
    const reach = 9 * Math.sqrt(largest) + 12;
    const R = ring === 1 ? 0 : Math.max(reach * 1.2, (1.15 * reach) / Math.sin(Math.PI / ring));
    keys.forEach((g, gi) => {
      const members = groups.get(g);
      const a = (2 * Math.PI * gi) / ring;
      const cx = R * Math.cos(a), cy = R * Math.sin(a);
      members.forEach((id, i) => {
        // a sunflower spiral inside the group's cluster
        const r = 9 * Math.sqrt(i + 0.5);
        const t = i * 2.39996;
        this.pos.set(id, [cx + r * Math.cos(t), cy + r * Math.sin(t)]);
      });
    });
    this.fit();
  }

  fit() {
    const w = this.canvas.width, h = this.canvas.height;
    let m = 1;
    for (const [x, y] of this.pos.values()) m = Math.max(m, Math.abs(x), Math.abs(y));
    this.view = { x: w / 2, y: h / 2, k: (0.45 * Math.min(w, h)) / (m + 20) };
  }

  update(people, edges) {
    if (people) people.ids.forEach((id, i) => this.wealth.set(id, people.wealth[i]));
    if (edges) this.edges = edges;
    this.draw();
  }

  radius(id) {
    const w = this.wealth.get(id);
    return w === undefined ? 4 : 2.5 + Math.sqrt(Math.max(0, w)) / 3;
  }

  screenOf(id) {
    const p = this.pos.get(id);
    if (!p) return null;
    const r = this.canvas.getBoundingClientRect();
    const sx = r.width / this.canvas.width, sy = r.height / this.canvas.height;
    return { x: r.left + (this.view.x + p[0] * this.view.k) * sx, y: r.top + (this.view.y + p[1] * this.view.k) * sy };
  }

  draw() {
    const { ctx, canvas, view } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.roster) return;
    ctx.setTransform(view.k, 0, 0, view.k, view.x, view.y);
    ctx.lineWidth = 1 / view.k;
    for (const [a, b, trust] of this.edges) {
      const p = this.pos.get(a), q = this.pos.get(b);
      if (!p || !q) continue;
      ctx.strokeStyle = trust >= 0.5 ? "rgba(46,125,50,.45)" : "rgba(179,38,30,.55)";
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      ctx.lineTo(q[0], q[1]);
      ctx.stroke();
    }
    const drawn = [];
    for (const [id, p] of this.pos) {
      ctx.fillStyle = ROLE_COLOURS[this.roster.roles[id] % ROLE_COLOURS.length];
      ctx.beginPath();
      ctx.arc(p[0], p[1], this.radius(id), 0, 2 * Math.PI);
      ctx.fill();
      if (this.marked.has(id) || this.selected === id) {
        ctx.strokeStyle = this.selected === id ? "#000" : "#f0f";
        ctx.lineWidth = 2 / view.k;
        ctx.stroke();
        ctx.lineWidth = 1 / view.k;
      }
      drawn.push(id);
    }
    this.drawn = drawn;
    canvas.dataset.drawn = String(drawn.length);
  }

  pick(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    const x = ((clientX - r.left) * this.canvas.width) / r.width;
    const y = ((clientY - r.top) * this.canvas.height) / r.height;
    const wx = (x - this.view.x) / this.view.k, wy = (y - this.view.y) / this.view.k;
    let best = null, bd = Infinity;
    for (const [id, p] of this.pos) {
      const d = (p[0] - wx) ** 2 + (p[1] - wy) ** 2;
      if (d < bd) { bd = d; best = id; }
    }
    const reach = (this.radius(best ?? 0) + 6 / this.view.k) ** 2;
    return bd <= reach ? best : null;
  }

  _wire() {
    const c = this.canvas;
    let drag = null, moved = false;
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      const x = ((e.clientX - r.left) * c.width) / r.width, y = ((e.clientY - r.top) * c.height) / r.height;
      const f = Math.exp(-e.deltaY / 500);
      this.view.x = x - (x - this.view.x) * f;
      this.view.y = y - (y - this.view.y) * f;
      this.view.k *= f;
      this.draw();
    }, { passive: false });
    c.addEventListener("mousedown", (e) => { drag = [e.clientX, e.clientY]; moved = false; });
    window.addEventListener("mousemove", (e) => {
      if (!drag) return;
      const r = c.getBoundingClientRect();
      const dx = ((e.clientX - drag[0]) * c.width) / r.width, dy = ((e.clientY - drag[1]) * c.height) / r.height;
      if (Math.abs(dx) + Math.abs(dy) > 2) moved = true;
      this.view.x += dx; this.view.y += dy;
      drag = [e.clientX, e.clientY];
      if (moved) this.draw();
    });
    window.addEventListener("mouseup", (e) => {
      if (drag && !moved) {
        const id = this.pick(e.clientX, e.clientY);
        if (id !== null) this.onPick(id);
      }
      drag = null;
    });
  }
}
