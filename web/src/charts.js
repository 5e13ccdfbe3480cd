// Live line charts of the headline figures, one small canvas each.
export const HEADLINE = [
  ["cooperation_rate", "cooperation"],
  ["mean_trust", "trust"],
  ["betrayals", "betrayals"],
  ["apologies", "apologies"],
  ["forgiveness", "forgiveness"],
  ["care_gifts", "care to the vulnerable"],
  ["wealth_gini", "wealth Gini"],
  ["emotion_inference_accuracy", "reading accuracy"],
];

export class Charts {
  constructor(box, table) {
    this.box = box;
    this.table = table;
    this.series = [];
    this.canvases = new Map();
    for (const [key, label] of HEADLINE) {
      const fig = document.createElement("figure");
      const cap = document.createElement("figcaption");
      cap.textContent = label;
      const cv = document.createElement("canvas");
      cv.width = 240; cv.height = 60;
      cv.dataset.figure = key;
      fig.append(cap, cv);
      box.append(fig);
      this.canvases.set(key, cv);
    }
  }

  reset(history) {
    this.series = history.slice();
    this.draw();
  }

  add(row) {
    this.series.push(row);
    if (this.series.length > 5000) this.series.shift();
    this.draw();
  }

  draw() {
    for (const [key, cv] of this.canvases) {
      const ctx = cv.getContext("2d");
      ctx.clearRect(0, 0, cv.width, cv.height);
      const ys = this.series.map((r) => Number(r[key] ?? 0));
      if (!ys.length) continue;
      const lo = Math.min(...ys), hi = Math.max(...ys);
      const span = hi - lo || 1;
      ctx.strokeStyle = "#3949ab";
      ctx.beginPath();
      ys.forEach((y, i) => {
        const x = ys.length === 1 ? cv.width / 2 : (i * (cv.width - 4)) / (ys.length - 1) + 2;
        const py = cv.height - 4 - ((y - lo) * (cv.height - 8)) / span;
        i ? ctx.lineTo(x, py) : ctx.moveTo(x, py);
      });
      ctx.stroke();
      ctx.fillStyle = "#555";
      ctx.font = "10px sans-serif";
      ctx.fillText(String(ys[ys.length - 1]), 4, 11);
    }
    const last = this.series[this.series.length - 1];
    this.table.replaceChildren();
    if (!last) return;
    for (const [key, value] of Object.entries(last)) {
      const tr = document.createElement("tr");
      tr.dataset.figure = key;
      const th = document.createElement("th");
      th.textContent = key.replaceAll("_", " ");
      const td = document.createElement("td");
      td.className = "value";
      td.textContent = String(value);
      tr.append(th, td);
      this.table.append(tr);
    }
  }
}
