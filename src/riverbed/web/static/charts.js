/* riverbed dashboard charts: small inline-SVG line and bar charts, no libraries.
 *
 *   RB.line(el, {series: [{name, points: [[x, y], ...], color}], time: true, markers: [...]})
 *   RB.bars(el, [{label, value}], {color})
 *
 * Every text drawn comes through RB.esc, so data (log templates, terms) can never inject markup.
 * Each chart sets data-points on its element: how many points it drew (the browser test reads it).
 */
"use strict";

const RB = (() => {
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
                   "#65a30d", "#475569", "#ea580c"];

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g,
      (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  function fmt(v) {
    if (v == null || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
    if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString("en-US");
    return v.toFixed(a >= 1 ? 2 : 3);
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toISOString().slice(11, 19);
  }

  function ticks(lo, hi, n) {
    if (hi <= lo) return [lo];
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(t);
    return out;
  }

  function empty(el, text) {
    el.dataset.points = "0";
    el.innerHTML = `<div class="chart-empty">${esc(text || "no data yet")}</div>`;
  }

  function line(el, opts) {
    // points without a value (null y) are not drawn: a series of only those is no series
    const series = (opts.series || []).filter((s) => s.points && s.points.some((p) => p[1] != null));
    const n = series.reduce((a, s) => a + s.points.filter((p) => p[1] != null).length, 0);
    if (!n) return empty(el, opts.empty);
    const W = Math.max(el.clientWidth || 600, 240), H = opts.height || 200;
    const m = {l: 48, r: 12, t: 10, b: 22};
    const xs = [], ys = [];
    series.forEach((s) => s.points.forEach((p) => { if (p[1] != null) { xs.push(p[0]); ys.push(p[1]); } }));
    (opts.markers || []).forEach((k) => { xs.push(k.x); ys.push(k.y); });
    let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (opts.zero !== false && y0 > 0) y0 = 0;
    if (y1 === y0) { y1 += 1; y0 -= opts.zero === false ? 1 : 0; }
    if (x1 === x0) { const pad = opts.time === false ? 1 : 30000; x1 += pad; x0 -= pad; }
    const pad = (y1 - y0) * 0.05; y1 += pad; if (opts.zero === false) y0 -= pad;
    const X = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
    const Y = (y) => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);
    let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.label || "chart")}">`;
    for (const t of ticks(y0, y1, 4)) {
      svg += `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}"/>` +
             `<text class="axis" x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end">${esc(fmt(t))}</text>`;
    }
    for (const t of ticks(x0, x1, Math.max(2, Math.floor(W / 110)))) {
      const label = opts.time === false ? fmt(t) : clock(t), x = X(t);
      const anchor = x > W - m.r - 24 ? "end" : x < m.l + 24 ? "start" : "middle";
      svg += `<text class="axis" x="${x}" y="${H - 6}" text-anchor="${anchor}">${esc(label)}</text>`;
    }
    series.forEach((s, i) => {
      const color = s.color || PALETTE[i % PALETTE.length];
      const pts = s.points.filter((p) => p[1] != null);
      const d = pts.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
      svg += `<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.width || 1.8}"` +
             `${s.dash ? ' stroke-dasharray="5 3"' : ""}><title>${esc(s.name)}</title></path>`;
      if (pts.length === 1) svg += `<circle cx="${X(pts[0][0])}" cy="${Y(pts[0][1])}" r="3" fill="${color}"/>`;
    });
    for (const k of opts.markers || []) {
      const x = X(k.x), y = Y(k.y), up = k.type === "buy";
      const path = up ? `M${x},${y - 7}L${x - 6},${y + 4}L${x + 6},${y + 4}Z` : `M${x},${y + 7}L${x - 6},${y - 4}L${x + 6},${y - 4}Z`;
      svg += `<path class="marker ${up ? "buy" : "sell"}" d="${path}"><title>${esc(k.label || k.type)}</title></path>`;
    }
    svg += "</svg>";
    const legend = series.map((s, i) => `<span class="key"><i style="background:${s.color || PALETTE[i % PALETTE.length]}"></i>` +
      `${esc(s.name)}</span>`).join("");
    el.innerHTML = svg + (series.length > 1 || opts.legend ? `<div class="legend">${legend}</div>` : "");
    el.dataset.points = String(n);
  }

  function bars(el, items, opts) {
    opts = opts || {};
    if (!items || !items.length) return empty(el, opts.empty);
    const max = Math.max(...items.map((d) => d.value), 1);
    el.innerHTML = items.map((d) => `<div class="bar" title="${esc(d.label)}: ${esc(fmt(d.value))}">` +
      `<span class="bar-label">${esc(d.label)}</span><span class="bar-track"><span class="bar-fill" ` +
      `style="width:${(100 * d.value / max).toFixed(1)}%;background:${opts.color || PALETTE[0]}"></span></span>` +
      `<span class="bar-value">${esc(fmt(d.value))}</span></div>`).join("");
    el.dataset.points = String(items.length);
  }

  return {esc, fmt, clock, line, bars, empty, PALETTE};
})();
