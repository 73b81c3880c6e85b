/* riverbed dashboard charts: small inline-SVG line and bar charts, no libraries.
 *
 *   RB.line(el, {series: [{name, points: [[x, y], ...], color}], time: true, markers: [...],
 *                unit: "ms" | "s", scale: "linear" | "clip" | "log", since: x})
 *   RB.bars(el, [{label, value}], {color})
 *
 * unit: y values are durations, shown as "850 ms", "2.3 s", "10.8 min". scale "clip": when a few
 * points are far above the rest (a catch-up batch), the y axis ends near the 95th percentile and
 * the points above are drawn at the top edge with ▲ (their value in the tooltip); "log": a log
 * axis. since: points with x < since are not drawn. Hovering a chart shows a tooltip with the x
 * (time) and each series' value there. Times are UTC or local (RB.setZone, kept in localStorage).
 * Every text drawn comes through RB.esc, so data (log templates, terms) can never inject markup.
 * Each chart sets data-points on its element: how many points it drew (the browser test reads it).
 */
"use strict";

const RB = (() => {
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
                   "#65a30d", "#475569", "#ea580c"];
  // one colour per log level on every chart; FATAL stands out (and is drawn thicker, on top)
  const LEVELS = {FATAL: "#c026d3", CRITICAL: "#c026d3", ERROR: "#dc2626", WARN: "#d97706", WARNING: "#d97706",
                  NOTICE: "#7c3aed", INFO: "#2563eb", DEBUG: "#94a3b8", TRACE: "#cbd5e1"};
  const LOUD = new Set(["FATAL", "CRITICAL"]);
  let zone = localStorage.getItem("riverbed-tz") === "local" ? "local" : "utc";

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

  /** A duration in ms, by magnitude: "0.4 ms", "850 ms", "2.3 s", "45 s", "10.8 min", "2.5 h". */
  function dur(ms) {
    if (ms == null || Number.isNaN(ms)) return "–";
    const a = Math.abs(ms), s = ms / 1000;
    if (a === 0) return "0";
    if (a < 1) return ms.toFixed(1) + " ms";
    if (a < 1000) return Math.round(ms) + " ms";
    if (a < 10000) return s.toFixed(1) + " s";
    if (a < 120000) return Math.round(s) + " s";
    if (a < 7200000) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }

  const pad2 = (n) => String(n).padStart(2, "0");
  function parts(ms) {
    const d = new Date(ms), u = zone === "utc";
    return {Y: u ? d.getUTCFullYear() : d.getFullYear(), M: (u ? d.getUTCMonth() : d.getMonth()) + 1,
            D: u ? d.getUTCDate() : d.getDate(), h: u ? d.getUTCHours() : d.getHours(),
            m: u ? d.getUTCMinutes() : d.getMinutes(), s: u ? d.getUTCSeconds() : d.getSeconds()};
  }
  function clock(ms) { const p = parts(ms); return `${pad2(p.h)}:${pad2(p.m)}:${pad2(p.s)}`; }
  function datetime(ms) { const p = parts(ms); return `${p.Y}-${pad2(p.M)}-${pad2(p.D)} ${clock(ms)}`; }
  const zoneName = () => (zone === "utc" ? "UTC" : "local");
  function setZone(z) { zone = z === "local" ? "local" : "utc"; localStorage.setItem("riverbed-tz", zone); }

  function ticks(lo, hi, n) {
    if (hi <= lo) return [lo];
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(t);
    return out;
  }

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
    .map((s) => s * 1000);
  function timeTicks(lo, hi, n) {
    const step = TIME_STEPS.find((s) => (hi - lo) / s <= n) || TIME_STEPS[TIME_STEPS.length - 1];
    const off = zone === "local" ? new Date(lo).getTimezoneOffset() * 60000 : 0;  // align to local minutes
    const out = [];
    for (let t = Math.ceil((lo - off) / step) * step + off; t <= hi; t += step) out.push(t);
    return out;
  }

  function logTicks(lo, hi) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); Math.pow(10, e) <= hi * 1.0001; e++) {
      for (const m of hi / lo < 100 ? [1, 2, 5] : [1]) {
        const t = m * Math.pow(10, e);
        if (t >= lo * 0.9999 && t <= hi * 1.0001) out.push(t);
      }
    }
    return out;
  }

  function empty(el, text) {
    el.dataset.points = "0";
    el.innerHTML = `<div class="chart-empty">${esc(text || "no data yet")}</div>`;
  }

  const colorOf = (s, i) => LEVELS[String(s.name).toUpperCase()] || s.color || PALETTE[i % PALETTE.length];

  /** The y range: [y0, y1, clipped at y1?] for the values `ys` under `scale`. */
  function yRange(ys, opts) {
    let y0 = Math.min(...ys), y1 = Math.max(...ys), clip = false;
    if (opts.scale === "clip" && ys.length >= 4) {
      const sorted = ys.slice().sort((a, b) => a - b);
      const q = sorted[Math.floor(0.95 * (sorted.length - 1))];
      if (q > 0 && y1 > 2 * q) { y1 = q * 1.3; clip = true; }
    }
    if (opts.scale === "log") return [y0 / 1.5, y1 * 1.5, false];
    if (opts.zero !== false && y0 > 0) y0 = 0;
    if (y1 === y0) { y1 += 1; y0 -= opts.zero === false ? 1 : 0; }
    if (!clip) { const pad = (y1 - y0) * 0.05; y1 += pad; if (opts.zero === false) y0 -= pad; }
    return [y0, y1, clip];
  }

  function line(el, opts) {
    const log = opts.scale === "log", since = opts.since || -Infinity;
    const keep = (p) => p[1] != null && p[0] >= since && (!log || p[1] > 0);
    // points without a value (null y), older than `since`, or <= 0 on a log axis are not drawn
    const series = (opts.series || []).map((s, i) => ({...s, color: colorOf(s, i), pts: (s.points || []).filter(keep)}))
      .filter((s) => s.pts.length);
    const n = series.reduce((a, s) => a + s.pts.length, 0);
    if (!n) return empty(el, opts.empty);
    const fy = opts.unit === "ms" ? dur : opts.unit === "s" ? (v) => dur(v * 1000) : fmt;
    const fx = opts.time === false ? fmt : clock;
    const W = Math.max(el.clientWidth || 600, 240), H = opts.height || 200;
    const m = {l: 56, r: 12, t: 12, b: 22};
    const xs = [], ys = [];
    series.forEach((s) => s.pts.forEach((p) => { xs.push(p[0]); ys.push(p[1]); }));
    (opts.markers || []).forEach((k) => { xs.push(k.x); ys.push(k.y); });
    let x0 = Math.min(...xs), x1 = Math.max(...xs);
    if (x1 === x0) { const pad = opts.time === false ? 1 : 30000; x1 += pad; x0 -= pad; }
    const [y0, y1, clip] = yRange(ys, opts);
    const X = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
    const Y = log ? (y) => H - m.b - (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) * (H - m.t - m.b)
      : (y) => H - m.b - (Math.min(y, y1) - y0) / (y1 - y0) * (H - m.t - m.b);
    let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.label || "chart")}">`;
    for (const t of log ? logTicks(y0, y1) : ticks(y0, y1, 4)) {
      svg += `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${Y(t)}" y2="${Y(t)}"/>` +
             `<text class="axis" x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end">${esc(fy(t))}</text>`;
    }
    const xt = opts.time === false ? ticks(x0, x1, Math.max(2, Math.floor(W / 110))) : timeTicks(x0, x1, Math.max(2, Math.floor(W / 90)));
    for (const t of xt) {
      const x = X(t), anchor = x > W - m.r - 24 ? "end" : x < m.l + 24 ? "start" : "middle";
      svg += `<text class="axis" x="${x}" y="${H - 6}" text-anchor="${anchor}">${esc(fx(t))}</text>`;
    }
    let clipped = 0;
    const order = series.map((s, i) => i).sort((a, b) => LOUD.has(String(series[a].name).toUpperCase()) - LOUD.has(String(series[b].name).toUpperCase()));
    for (const i of order) {
      const s = series[i], loud = LOUD.has(String(s.name).toUpperCase());
      const d = s.pts.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
      svg += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || (loud ? 3 : 1.8)}"` +
             `${s.dash ? ' stroke-dasharray="5 3"' : ""}><title>${esc(s.name)}</title></path>`;
      if (s.pts.length === 1 || loud) {
        svg += s.pts.map((p) => `<circle cx="${X(p[0])}" cy="${Y(p[1])}" r="${loud ? 3.5 : 3}" fill="${s.color}"/>`).join("");
      }
      for (const p of clip ? s.pts.filter((q) => q[1] > y1) : []) {
        clipped++;
        const x = X(p[0]);
        svg += `<path class="clipped" d="M${x},${m.t - 6}L${x - 5},${m.t + 3}L${x + 5},${m.t + 3}Z" fill="${s.color}">` +
               `<title>${esc(s.name)}: ${esc(fy(p[1]))} at ${esc(fx(p[0]))} (above the axis)</title></path>`;
      }
    }
    for (const k of opts.markers || []) {
      const x = X(k.x), y = Y(k.y), up = k.type === "buy";
      const path = up ? `M${x},${y - 7}L${x - 6},${y + 4}L${x + 6},${y + 4}Z` : `M${x},${y + 7}L${x - 6},${y - 4}L${x + 6},${y - 4}Z`;
      svg += `<path class="marker ${up ? "buy" : "sell"}" d="${path}"><title>${esc(k.label || k.type)}</title></path>`;
    }
    if (clipped) {
      svg += `<text class="axis clip-note" x="${W - m.r}" y="${m.t + 12}" text-anchor="end">▲ ${clipped} above ${esc(fy(y1))}` +
             ` (hover for values)</text>`;
    }
    svg += `<line class="guide" x1="0" x2="0" y1="${m.t}" y2="${H - m.b}" visibility="hidden"/></svg>`;
    const legend = series.map((s) => `<span class="key"><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join("");
    el.innerHTML = svg + (series.length > 1 || opts.legend ? `<div class="legend">${legend}</div>` : "") +
      '<div class="tip" data-testid="tooltip" hidden></div>';
    el.dataset.points = String(n);
    el.dataset.clipped = String(clipped);
    el._chart = {series, X, W, fx, fy};
    hover(el);
  }

  /** The tooltip: the nearest x to the pointer, with each series' value there. */
  function showTip(el) {
    const c = el._chart, at = el._hoverX, svg = el.querySelector("svg"), tip = el.querySelector(".tip");
    if (!c || at == null || !svg || !tip) return;
    const r = svg.getBoundingClientRect(), sx = (at - r.left) * c.W / r.width;
    let best = null;
    for (const s of c.series) for (const p of s.pts) if (!best || Math.abs(c.X(p[0]) - sx) < Math.abs(c.X(best) - sx)) best = p[0];
    const rows = c.series.map((s) => [s, s.pts.find((p) => p[0] === best)]).filter((x) => x[1]);
    tip.innerHTML = `<b data-testid="tooltip-x">${esc(c.fx(best))}${c.fx === clock ? " " + zoneName() : ""}</b>` + rows.map(([s, p]) =>
      `<div data-series="${esc(s.name)}"><i style="background:${s.color}"></i>${esc(s.name)}: <span class="v">${esc(c.fy(p[1]))}</span></div>`).join("");
    const gx = c.X(best), guide = svg.querySelector(".guide");
    guide.setAttribute("x1", gx); guide.setAttribute("x2", gx); guide.setAttribute("visibility", "visible");
    tip.hidden = false;
    const px = gx * r.width / c.W;
    tip.style.left = (px > r.width / 2 ? px - tip.offsetWidth - 10 : px + 10) + "px";
    el.dataset.hoverX = String(best);
  }

  function hover(el) {
    if (el.dataset.hooked) { if (el._hoverX != null) showTip(el); return; }
    el.dataset.hooked = "1";
    el.addEventListener("mousemove", (e) => { el._hoverX = e.clientX; showTip(el); });
    el.addEventListener("mouseleave", () => {
      el._hoverX = null;
      const tip = el.querySelector(".tip"), guide = el.querySelector(".guide");
      if (tip) tip.hidden = true;
      if (guide) guide.setAttribute("visibility", "hidden");
    });
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

  return {esc, fmt, dur, clock, datetime, zoneName, setZone, line, bars, empty, PALETTE, LEVELS};
})();
