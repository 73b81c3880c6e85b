/* riverbed dashboard: draws the snapshot the server pushes every second (Server-Sent Events on
 * /api/stream), and calls /api for the bitcoin product, switch and rollback. No libraries. */
"use strict";

const {esc, fmt, clock, line, bars, empty} = RB;
const $ = (sel) => document.querySelector(sel);
const LEVEL_COLORS = {FATAL: "#7f1d1d", ERROR: "#dc2626", WARN: "#d97706", WARNING: "#d97706",
                      NOTICE: "#7c3aed", INFO: "#2563eb", DEBUG: "#94a3b8"};

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

const ui = {product: null, pipeline: null, last: null};

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

function partError(el, part) {
  if (part && part.error) { empty(el, "cannot show: " + part.error); return true; }
  return false;
}

/* -- apps ---------------------------------------------------------------------------------- */

function appFrame(name, panel) {
  const card = $("#app-" + name), badge = card.querySelector(".badge"), hint = card.querySelector(".hint");
  const status = panel.status || "error";
  setText(badge, status);
  badge.className = "badge " + status.replace(/\s+/g, "-");
  const running = status !== "not running" && status !== "error";
  hint.hidden = running;
  hint.textContent = status === "not running" ? `not running — ${panel.hint || ""}` : (panel.error || "");
  card.querySelector(".body").hidden = !running;
  card.classList.toggle("off", !running);
  return running;
}

function drawLogwatch(p) {
  if (!appFrame("logwatch", p)) return;
  setText("[data-testid=lw-records]", fmt(p.records));
  setText("[data-testid=lw-dlq]", fmt(p.dead_letters));
  const lv = p.levels || {};
  if (!partError($("#lw-levels"), lv)) {
    const order = ["FATAL", "ERROR", "WARN", "WARNING", "NOTICE", "INFO", "DEBUG"];
    const names = Object.keys(lv.series || {}).sort((a, b) => (order.indexOf(a) + 99) % 99 - (order.indexOf(b) + 99) % 99);
    line($("#lw-levels"), {label: "lines per level", series: names.map((n) => ({name: n, points: lv.series[n],
      color: LEVEL_COLORS[n]})), legend: true, empty: "no windows yet"});
    const totals = lv.totals || {};
    setText("[data-testid=lw-window-total]", fmt(Object.values(totals).reduce((a, b) => a + b, 0)));
    setText("[data-testid=lw-errors]", fmt((totals.ERROR || 0) + (totals.FATAL || 0)));
  }
  const te = p.top_errors || {};
  if (!partError($("#lw-top-errors"), te)) {
    bars($("#lw-top-errors"), (te.top || []).map((d) => ({label: d.label, value: d.count})), {color: "#dc2626", empty: "no errors"});
  }
  const ce = p.component_errors || {};
  if (!partError($("#lw-components"), ce)) {
    bars($("#lw-components"), (ce.top || []).map((d) => ({label: d.label, value: d.count})), {color: "#d97706", empty: "no errors"});
  }
  const al = p.alerts || {rows: []};
  setText("[data-testid=lw-alerts]", fmt(al.count || 0));
  const seen = ui.alertsSeen || (ui.alertsSeen = new Set());
  const first = seen.size === 0;
  table($("#lw-alerts"), ["window", "component", "errors", "baseline"], (al.rows || []).slice(0, 12).map((a) => {
    const key = a.window_start + "/" + a.component, fresh = !first && !seen.has(key);
    seen.add(key);
    return {attrs: fresh ? ' class="fresh"' : "", cells: [esc(clock(a.window_start) + "–" + clock(a.window_end)),
      esc(a.component), esc(fmt(a.count)), esc(fmt(a.baseline))]};
  }));
  if (!(al.rows || []).length) $("#lw-alerts").innerHTML = '<tr><td class="muted">no alerts yet</td></tr>';
}

function drawBitcoin(p) {
  if (!appFrame("bitcoin", p)) return;
  const pick = $("#btc-product");
  const products = p.products || [];
  if (pick.dataset.list !== products.join(",")) {
    pick.innerHTML = products.map((x) => `<option>${esc(x)}</option>`).join("");
    pick.dataset.list = products.join(",");
  }
  pick.hidden = products.length < 2;
  if (p.product) pick.value = p.product;
  const ind = Array.isArray(p.indicators) ? p.indicators : [];
  const trades = Array.isArray(p.trades) ? p.trades : [];
  const eq = Array.isArray(p.equity) ? p.equity : [];
  if (!partError($("#btc-price"), p.indicators)) {
    const s = (col, name, color, dash) => ({name, color, dash, points: ind.map((r) => [r.window_start, r[col]])});
    line($("#btc-price"), {label: "price", zero: false, legend: true, empty: "no prices yet",
      series: [s("close", "close", "#0f172a"), s("ma_short", "short MA", "#2563eb", true), s("ma_long", "long MA", "#d97706", true)],
      markers: trades.map((t) => ({x: t.time, y: t.price, type: String(t.side).toLowerCase() === "sell" ? "sell" : "buy",
        label: `${t.side} ${fmt(t.qty)} @ ${fmt(t.price)} (${clock(t.time)})`}))});
  }
  if (!partError($("#btc-equity"), p.equity)) {
    line($("#btc-equity"), {label: "equity", zero: false, empty: "no equity yet",
      series: [{name: "equity", color: "#16a34a", points: eq.map((r) => [r.time, r.equity])}]});
  }
  const lastInd = ind[ind.length - 1], lastEq = eq[eq.length - 1];
  setText("[data-testid=btc-price]", lastInd ? fmt(lastInd.close) : "–");
  setText("[data-testid=btc-equity]", lastEq ? fmt(lastEq.equity) : "–");
  setText("[data-testid=btc-pnl]", lastEq ? fmt(lastEq.pnl) : "–");
  setText("[data-testid=btc-trades]", fmt(trades.length));
  const summary = Array.isArray(p.summary) ? p.summary : [];
  const cols = summary.length ? Object.keys(summary[0]) : [];
  table($("#btc-summary"), cols, summary.map((r) => ({cells: cols.map((c) => esc(typeof r[c] === "number" ? fmt(r[c]) : r[c]))})));
}

function drawBuzz(p) {
  if (!appFrame("buzz", p)) return;
  const top = (part, el, color) => {
    if (!partError(el, part)) bars(el, ((part || {}).top || []).map((d) => ({label: d.label, value: d.count})), {color});
  };
  top(p.terms, $("#buzz-terms"), "#2563eb");
  top(p.repos, $("#buzz-repos"), "#16a34a");
  top(p.hashtags, $("#buzz-hashtags"), "#7c3aed");
  top(p.event_types, $("#buzz-types"), "#0891b2");
  const cl = p.clusters || {};
  if (!partError($("#buzz-clusters"), cl)) {
    const series = Object.entries(cl.series || {}).map(([k, pts]) => ({name: "cluster " + k, points: pts}));
    line($("#buzz-clusters"), {label: "cluster sizes", series, legend: true, empty: "no clusters yet"});
  }
}

/* -- platform -------------------------------------------------------------------------------- */

function drawTopics(pf) {
  const topics = pf.topics || [];
  table($("#topics"), ["topic", "partitions", "end offsets", "records", "bytes", "records/s"], topics.map((t) => ({
    attrs: ` data-testid="topic-${esc(t.name)}"`,
    cells: [esc(t.name), esc(t.partitions.length),
      esc(t.partitions.map((p) => `p${p.partition}=${p.end.toLocaleString("en-US")}`).join(" ")),
      `<span data-testid="topic-records">${esc(fmt(t.records))}</span>`, esc(fmt(t.bytes)), esc(fmt(t.rate))]})));
  const rates = pf.rates || {};
  line($("#rates"), {label: "append rates", legend: true, empty: "sampling…",
    series: Object.keys(rates).filter((k) => !k.endsWith(".dlq")).map((k) => ({name: k, points: rates[k]}))});
}

function drawPipelines(pf) {
  const pls = pf.pipelines || [];
  table($("#pipelines"), ["pipeline", "status", "records", "last micro-batch", "lag", "dead letters (parse / late)"],
    pls.map((p) => {
      const b = p.last_batch;
      return {attrs: ` data-testid="pipeline-${esc(p.name)}"`, cells: [esc(p.name),
        `<span class="badge ${esc(p.status.replace(/\s+/g, "-"))}">${esc(p.status)}</span>`, esc(fmt(p.records)),
        b ? esc(`#${b.batch_id}: ${fmt(b.records)} rec in ${fmt(b.seconds)} s at ${clock(b.at_ms)}`) : "–",
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
  line($("#pl-rates"), {label: "rates", legend: true, empty: "no micro-batches yet",
    series: [s("input_rate", "input", "#2563eb"), s("processing_rate", "processing", "#16a34a")]});
  line($("#pl-durations"), {label: "durations", empty: "no micro-batches yet", series: [s("seconds", "seconds", "#7c3aed")]});
  line($("#pl-latency"), {label: "latency", legend: true, empty: "no micro-batches yet",
    series: [s("latency_p50_ms", "p50", "#2563eb"), s("latency_p99_ms", "p99", "#dc2626")]});
}

function drawVersions(pf) {
  const el = $("#versions"), all = pf.versions || {};
  const names = Object.keys(all);
  if (!names.length) { el.innerHTML = '<p class="muted">no running pipelines</p>'; return; }
  if (el.contains(document.activeElement) && document.activeElement.tagName === "BUTTON") return;
  el.innerHTML = names.map((name) => {
    const v = all[name];
    if (!v.available) return `<p class="muted" data-testid="versions-${esc(name)}">${esc(name)}: ${esc(v.reason || v.error || "")}</p>`;
    // rollback is offered whenever something other than v1 serves or a previous version is listed;
    // riverbed.kappa decides, and says why when it refuses
    const canRollback = v.versions.some((x) => x.status === "previous" || (x.status === "serving" && x.version !== "v1"));
    const rows = v.versions.map((x) => `<tr data-testid="version-${esc(name)}-${esc(x.version)}"><td>${esc(x.version)}</td>` +
      `<td><span class="badge ${esc(x.status)}">${esc(x.status)}</span></td><td>${esc(fmt(x.lag))}</td>` +
      `<td>${x.created_ms ? esc(new Date(x.created_ms).toISOString().replace("T", " ").slice(0, 19)) : "–"}</td><td>` +
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
  const apps = snap.apps || {};
  drawLogwatch(apps.logwatch || {});
  let btc = apps.bitcoin || {};
  if (ui.product && btc.product && ui.product !== btc.product) {
    try { btc = await api("/apps/bitcoin?product=" + encodeURIComponent(ui.product)); } catch (e) { ui.product = null; }
  }
  drawBitcoin(btc);
  drawBuzz(apps.buzz || {});
  const pf = snap.platform || {};
  drawTopics(pf);
  drawPipelines(pf);
  drawVersions(pf);
  drawDeadLetters(pf);
  setText("#updated", "updated " + clock(snap.time_ms) + " UTC");
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
  $("#btc-product").addEventListener("change", (e) => { ui.product = e.target.value; if (ui.last) draw(ui.last); });
  $("#pipeline-pick").addEventListener("change", (e) => { ui.pipeline = e.target.value; if (ui.last) draw(ui.last); });
  window.addEventListener("resize", () => { if (ui.last) draw(ui.last); });
  connect();
});
