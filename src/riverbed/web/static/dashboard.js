/* riverbed dashboard: draws the snapshot the server pushes every second (Server-Sent Events on
 * /api/stream): each pipeline's panels (views.js) and the platform; calls /api for a pipeline's
 * chosen `select` value, switch and rollback. No libraries. */
"use strict";

const {esc, fmt, dur, clock, datetime, line} = RB;
const $ = (sel) => document.querySelector(sel);

// The token (when the server wants one) arrives once in the URL (#token=... or ?token=...), is kept
// for this tab only, and is removed from the address bar.
const TOKEN = (() => {
  const m = location.hash.match(/token=([^&]+)/) || location.search.match(/[?&]token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("riverbed-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("riverbed-token");
})();

const RANGES = {"5m": 300000, "1h": 3600000, "all": 0};  // the platform charts' time range
const ui = {pipeline: null, last: null, select: {}, topN: {}, sort: {}, seen: {},
            range: RANGES[localStorage.getItem("riverbed-range")] != null ? localStorage.getItem("riverbed-range") : "5m",
            scale: localStorage.getItem("riverbed-scale") || "clip",
            redraw: () => { if (ui.last) draw(ui.last); }};

/** The oldest time the platform charts show (the range picker), from the snapshot's time. */
const since = (snap) => (RANGES[ui.range] ? snap.time_ms - RANGES[ui.range] : -Infinity);

async function api(path, init) {
  init = init || {};
  const headers = Object.assign({"Accept": "application/json"}, init.headers || {});
  if (TOKEN) headers["Authorization"] = "Bearer " + TOKEN;
  const r = await fetch("/api" + path, Object.assign({}, init, {headers}));
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

function setText(sel, value) {
  const el = typeof sel === "string" ? $(sel) : sel;
  if (el && el.textContent !== String(value)) el.textContent = value;
}

function table(el, head, rows) {
  el.innerHTML = `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((r) => `<tr${r.attrs || ""}>${r.cells.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("") +
    "</tbody>";
}

/* -- platform -------------------------------------------------------------------------------- */

function drawTopics(pf, from) {
  const topics = pf.topics || [];
  table($("#topics"), ["topic", "partitions", "end offsets", "records", "bytes", "records/s"], topics.map((t) => ({
    attrs: ` data-testid="topic-${esc(t.name)}"`,
    cells: [esc(t.name), esc(t.partitions.length),
      esc(t.partitions.map((p) => `p${p.partition}=${p.end.toLocaleString("en-US")}`).join(" ")),
      `<span data-testid="topic-records">${esc(fmt(t.records))}</span>`, esc(fmt(t.bytes)), esc(fmt(t.rate))]})));
  const rates = pf.rates || {};
  line($("#rates"), {label: "append rates", legend: true, empty: "sampling…", since: from, scale: ui.scale,
    series: Object.keys(rates).filter((k) => !k.endsWith(".dlq")).map((k) => ({name: k, points: rates[k]}))});
}

function drawPipelines(pf, from) {
  const pls = pf.pipelines || [];
  table($("#pipelines"), ["pipeline", "status", "records", "last micro-batch", "lag", "dead letters (parse / late)"],
    pls.map((p) => {
      const b = p.last_batch;
      return {attrs: ` data-testid="pipeline-${esc(p.name)}"`, cells: [esc(p.name),
        `<span class="badge ${esc(p.status.replace(/\s+/g, "-"))}">${esc(p.status)}</span>` +
        `<br><small class="muted" data-testid="detail">${esc(p.detail || "")}</small>`, esc(fmt(p.records)),
        b ? esc(`#${b.batch_id}: ${fmt(b.records)} rec in ${dur(b.seconds * 1000)} at ${clock(b.at_ms)}`) : "–",
        `<span data-testid="lag">${p.lag ? esc(fmt(p.lag.total)) : "–"}</span>`,
        esc(`${fmt(p.dead_letters_parse)} / ${fmt(p.dead_letters_late)}`)]};
    }));
  const live = pls.filter((p) => p.status !== "not running").map((p) => p.name);
  const pick = $("#pipeline-pick");
  if (pick.dataset.list !== live.join(",")) {
    pick.innerHTML = live.map((n) => `<option>${esc(n)}</option>`).join("") || "<option>(none)</option>";
    pick.dataset.list = live.join(",");
  }
  if (!ui.pipeline || !live.includes(ui.pipeline)) ui.pipeline = live[0] || null;
  if (ui.pipeline) pick.value = ui.pipeline;
  const ms = ((pf.metrics || {})[ui.pipeline] || []);
  const s = (col, name, color) => ({name, color, points: ms.map((m) => [m.at_ms, m[col]])});
  const common = {empty: "no micro-batches yet", since: from, scale: ui.scale};
  line($("#pl-rates"), {...common, label: "rates", legend: true,
    series: [s("input_rate", "input", "#2563eb"), s("processing_rate", "processing", "#16a34a")]});
  line($("#pl-durations"), {...common, label: "durations", unit: "s", series: [s("seconds", "duration", "#7c3aed")]});
  line($("#pl-latency"), {...common, label: "latency", unit: "ms", legend: true,
    series: [s("latency_p50_ms", "p50", "#2563eb"), s("latency_p99_ms", "p99", "#dc2626")]});
  line($("#pl-lag"), {...common, label: "lag", empty: "no lag sampled yet",
    series: [{name: "records behind", color: "#d97706", points: (pf.lags || {})[ui.pipeline] || []}]});
  line($("#pl-watermark"), {...common, label: "watermark delay", unit: "ms", empty: "no watermark yet",
    series: [{name: "behind the batch's time", color: "#0891b2",
      points: ms.map((m) => [m.at_ms, m.watermark_ms ? m.at_ms - m.watermark_ms : null])}]});
}

function drawVersions(pf) {
  const el = $("#versions"), all = pf.versions || {};
  const names = Object.keys(all);
  if (!names.length) { el.innerHTML = '<p class="muted">no pipelines yet</p>'; return; }
  if (el.contains(document.activeElement) && document.activeElement.tagName === "BUTTON") return;
  el.innerHTML = names.map((name) => {
    const v = all[name];
    if (!v.available) return `<p class="muted" data-testid="versions-${esc(name)}">${esc(name)}: ${esc(v.reason || v.error || "")}</p>`;
    if (!(v.versions || []).length) {
      return `<p class="muted" data-testid="versions-${esc(name)}" title="${esc(v.reason || "")}">${esc(name)}: no versions yet</p>`;
    }
    // rollback is offered whenever something other than v1 serves or a previous version is listed;
    // riverbed.kappa decides, and says why when it refuses
    const canRollback = v.versions.some((x) => x.status === "previous" || (x.status === "serving" && x.version !== "v1"));
    const rows = v.versions.map((x) => `<tr data-testid="version-${esc(name)}-${esc(x.version)}"><td>${esc(x.version)}</td>` +
      `<td><span class="badge ${esc(x.status)}">${esc(x.status)}</span></td><td>${esc(fmt(x.lag))}</td>` +
      `<td>${x.created_ms ? esc(datetime(x.created_ms)) : "–"}</td><td>` +
      (x.status === "serving" ? "" : `<button data-act="switch" data-pipeline="${esc(name)}" data-version="${esc(x.version)}"` +
        `${x.status === "catching-up" ? ' disabled title="still catching up"' : ""}>switch to ${esc(x.version)}</button>`) +
      "</td></tr>").join("");
    return `<h4>${esc(name)} <button data-act="rollback" data-pipeline="${esc(name)}"${canRollback ? "" : " disabled"}>rollback</button></h4>` +
      `<table class="grid-table" data-testid="versions-${esc(name)}"><thead><tr><th>version</th><th>status</th><th>lag</th>` +
      `<th>created</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
  }).join("");
}

function drawDeadLetters(pf) {
  const d = pf.dead_letters || [];
  if (!d.length) { $("#dlq").innerHTML = '<p class="muted">no dead-letter topics: nothing rejected so far</p>'; return; }
  $("#dlq").innerHTML = d.map((t) => `<h4>${esc(t.topic)} <small>${esc(fmt(t.count))} records</small></h4>` +
    (t.sample.length ? `<ul class="reasons">${t.sample.map((s) => `<li><b>${esc(s.reason)}</b> <span class="muted">` +
      `${esc(s.source)} ${esc(s.origin || "")} ${s.time_ms ? esc(clock(s.time_ms)) : ""}</span><br><code>${esc(s.value)}</code></li>`).join("")}</ul>` : "")).join("");
}

/* -- the live stream -------------------------------------------------------------------------- */

async function draw(snap) {
  ui.last = snap;
  const views = Object.assign({}, snap.views || {});
  for (const [name, v] of Object.entries(views)) {  // a value chosen in a pipeline's picker
    const want = ui.select[name];
    if (want != null && v.select && v.select.value !== want) {
      try { views[name] = await api(`/pipelines/${encodeURIComponent(name)}/panels?select=${encodeURIComponent(want)}`); }
      catch (e) { delete ui.select[name]; }
    }
  }
  RBViews.draw($("#apps"), views, ui);
  const pf = snap.platform || {}, from = since(snap);
  drawTopics(pf, from);
  drawPipelines(pf, from);
  drawVersions(pf);
  drawDeadLetters(pf);
  const spark = $("#spark-ui");
  spark.hidden = !snap.spark_ui;
  if (snap.spark_ui && spark.getAttribute("href") !== snap.spark_ui) spark.setAttribute("href", snap.spark_ui);
  setText("#updated", "updated " + clock(snap.time_ms) + " " + RB.zoneName());
}

function connect() {
  const src = new EventSource("/api/stream" + (TOKEN ? "?token=" + encodeURIComponent(TOKEN) : ""));
  src.addEventListener("snapshot", (e) => {
    setText("#conn", "live"); $("#conn").className = "conn live";
    draw(JSON.parse(e.data)).catch((err) => console.error(err));
  });
  src.onerror = async () => {
    setText("#conn", "reconnecting…"); $("#conn").className = "conn down";
    try { await api("/health"); } catch (err) {
      if (/token/.test(err.message)) {
        src.close();
        setText("#conn", "needs a token: open the page as /#token=YOUR_TOKEN");
      }
    }
  };
}

async function act(button) {
  const name = button.dataset.pipeline, msg = $("#versions-msg");
  const body = button.dataset.act === "switch" ? {version: button.dataset.version} : {};
  button.disabled = true;
  try {
    const r = await api(`/pipelines/${encodeURIComponent(name)}/${button.dataset.act}`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    msg.textContent = `${name}: now serving ${r.serving}`;
    msg.className = "msg ok";
  } catch (e) {
    msg.textContent = `${name}: ${button.dataset.act} refused: ${e.message}`;
    msg.className = "msg bad";
  }
  button.blur();
  try { draw(await api("/snapshot")); } catch (e) { /* the stream will redraw */ }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#versions").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-act]");
    if (b) act(b);
  });
  $("#pipeline-pick").addEventListener("change", (e) => { ui.pipeline = e.target.value; ui.redraw(); });
  const remember = (sel, key) => {  // a picker whose choice is kept in ui and localStorage
    $(sel).value = ui[key];
    $(sel).addEventListener("change", (e) => {
      ui[key] = e.target.value; localStorage.setItem("riverbed-" + key, ui[key]); ui.redraw();
    });
  };
  remember("#range", "range");
  remember("#scale", "scale");
  const tz = $("#tz");
  tz.textContent = RB.zoneName();
  tz.addEventListener("click", () => {
    RB.setZone(RB.zoneName() === "UTC" ? "local" : "utc"); tz.textContent = RB.zoneName(); ui.redraw();
  });
  window.addEventListener("resize", () => { if (ui.last) draw(ui.last); });
  connect();
});
