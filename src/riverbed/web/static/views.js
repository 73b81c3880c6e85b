/* riverbed dashboard: one card per pipeline in the catalogue, its panels drawn by kind.
 *
 *   RBViews.draw(container, views, ui)   views: {pipeline: view} as /api/pipelines/{name}/panels gives
 *
 * The page knows panel kinds (timeseries, top, table, line, stat), never an app: what to draw comes
 * from the panel specs the pipelines recorded. Every text drawn goes through RB.esc.
 */
"use strict";

const RBViews = (() => {
  const {esc, fmt, clock, line, bars, empty, PALETTE} = RB;
  const TOPN = [3, 5, 10, 20, 0];  // 0: all

  const slug = (s) => String(s).replace(/[^A-Za-z0-9_.-]/g, "_");

  function panelIds(name, panels) {
    const seen = {};
    return panels.map((p) => {
      let id = `panel-${slug(name)}-${slug(p.output)}-${p.kind}`;
      seen[id] = (seen[id] || 0) + 1;
      if (seen[id] > 1) id += "-" + seen[id];
      return id;
    });
  }

  function cell(v, isTime) {
    if (v == null) return "–";
    if (isTime && typeof v === "number") return esc(RB.datetime(v));
    if (typeof v === "number") return esc(fmt(v));
    const s = String(v);
    return esc(s.length > 160 ? s.slice(0, 157) + "…" : s);
  }

  function card(container, name) {
    const id = "view-" + slug(name);
    let el = document.getElementById(id);
    if (el) return el;
    el = document.createElement("article");
    el.className = "card app";
    el.id = id;
    el.dataset.testid = id;
    el.dataset.pipeline = name;
    el.innerHTML = `<header><h3>${esc(name)} <small class="desc"></small></h3>` +
      `<select class="pick" aria-label="choose" hidden></select>` +
      `<span class="badge" data-testid="status-${esc(slug(name))}">…</span></header>` +
      `<p class="status-detail muted" data-testid="status-detail-${esc(slug(name))}"></p><p class="source"></p><p class="hint" hidden></p><p class="msg bad invalid" hidden></p><div class="body">` +
      `<div class="tiles"><div class="tile"><b data-testid="records-${esc(slug(name))}">–</b><span>records processed</span></div>` +
      `<div class="tile"><b data-testid="dlq-${esc(slug(name))}">–</b><span>dead letters</span></div>` +
      `<div class="tile"><b data-testid="outputs-${esc(slug(name))}">–</b><span>outputs</span></div></div>` +
      `<div class="panels"></div></div>`;
    container.appendChild(el);
    return el;
  }

  function frame(el, v) {
    const status = v.status || "error";
    const badge = el.querySelector(".badge"), hint = el.querySelector(".hint");
    if (badge.textContent !== status) badge.textContent = status;
    badge.className = "badge " + status.replace(/\s+/g, "-");
    badge.title = v.detail || "";
    const detail = el.querySelector(".status-detail");
    if (detail.textContent !== (v.detail || "")) detail.textContent = v.detail || "";
    el.querySelector(".desc").textContent = v.description || "";
    const src = v.source || {};
    el.querySelector(".source").textContent = src.file || src.module ? `defined in ${src.file || src.module}` : "";
    const invalid = el.querySelector(".invalid"), bad = v.invalid_panels || [];
    invalid.hidden = !bad.length;
    invalid.textContent = bad.length ? "cannot draw: " + bad.join("; ") : "";
    const running = status !== "not running" && status !== "error";
    hint.hidden = running;
    hint.textContent = status === "not running" ? `not running — ${v.hint || ""}` : (v.error || "");
    el.querySelector(".body").hidden = !running;
    el.classList.toggle("off", !running);
    return running;
  }

  function picker(el, v, ui) {
    const pick = el.querySelector(".pick"), sel = v.select;
    const choices = sel ? sel.choices || [] : [];
    if (pick.dataset.list !== choices.join("\u0000")) {
      pick.innerHTML = choices.map((x) => `<option>${esc(x)}</option>`).join("");
      pick.dataset.list = choices.join("\u0000");
      pick.setAttribute("aria-label", sel ? sel.column : "choose");
      pick.onchange = () => { ui.select[v.pipeline] = pick.value; ui.redraw(); };
    }
    pick.hidden = choices.length < 2;
    if (sel && sel.value != null) pick.value = sel.value;
  }

  function layout(el, v) {
    const box = el.querySelector(".panels"), ids = panelIds(v.pipeline, v.panels || []);
    if (box.dataset.ids !== ids.join(",")) {
      box.innerHTML = (v.panels || []).map((p, i) => {
        const wide = p.kind === "line" || p.kind === "timeseries" || p.kind === "table";
        return `<div class="panel panel-${esc(p.kind)}${wide ? " wide" : ""}" data-testid="${esc(ids[i])}" ` +
          `data-output="${esc(p.output)}" data-kind="${esc(p.kind)}"><h4>${esc(p.title || p.output)} ` +
          `<small>${esc(p.note || "")}</small>${p.generated ? '<span class="gen">generated</span>' : ""}</h4>` +
          `<div class="content"></div></div>`;
      }).join("");
      box.dataset.ids = ids.join(",");
    }
    return Array.from(box.children);
  }

  function drawTimeseries(box, p, d, ui) {
    const id = box.dataset.testid;
    let n = ui.topN[id];
    if (n == null) n = p.top || 10;
    const order = d.order || [];
    let chart = box.querySelector(".chart");
    if (!chart) {
      box.querySelector(".content").innerHTML = `<select class="topn" aria-label="series shown">` +
        TOPN.map((k) => `<option value="${k}">${k ? "top " + k : "all"}</option>`).join("") +
        `</select><div class="chart"></div><div class="totals muted"></div>`;
      chart = box.querySelector(".chart");
      box.querySelector(".topn").onchange = (e) => { ui.topN[id] = Number(e.target.value); ui.redraw(); };
    }
    const sel = box.querySelector(".topn");
    if (!TOPN.includes(n)) sel.insertAdjacentHTML("afterbegin", `<option value="${n}">top ${n}</option>`);
    sel.value = String(n);
    const shown = n ? order.slice(0, n) : order;
    const styles = p.styles || {};
    line(chart, {label: p.title || p.output, legend: true, zero: p.zero !== false, time: true, empty: "no windows yet",
      series: shown.map((k) => ({name: k, points: d.series[k], color: styles[k]}))});
    const totals = d.totals || {}, all = Object.values(totals).reduce((a, b) => a + b, 0);
    box.dataset.total = String(all);
    box.querySelector(".totals").textContent = order.length ?
      `over the newest ${Math.round((p.span_ms || 300000) / 60000)} min: ` +
      shown.map((k) => `${k} ${fmt(totals[k])}`).join(", ") + ` (all: ${fmt(all)})` : "";
  }

  function drawTop(box, p, d, i) {
    let el = box.querySelector(".bars");
    if (!el) { box.querySelector(".content").innerHTML = '<div class="bars"></div>'; el = box.querySelector(".bars"); }
    bars(el, (d.top || []).map((x) => ({label: x.label, value: x.value})), {color: PALETTE[i % PALETTE.length],
      empty: "nothing in the newest window"});
  }

  function drawTable(box, p, d, ui) {
    const id = box.dataset.testid, sort = ui.sort[id];
    let el = box.querySelector("table");
    if (!el) {
      box.querySelector(".content").innerHTML = '<table class="grid-table"></table>';
      el = box.querySelector("table");
      el.onclick = (e) => {
        const th = e.target.closest("th[data-col]");
        if (!th) return;
        const cur = ui.sort[id];
        ui.sort[id] = {col: th.dataset.col, desc: cur && cur.col === th.dataset.col ? !cur.desc : true};
        ui.redraw();
      };
    }
    const cols = d.columns || [], times = new Set(d.time_columns || []), keys = d.keys || [];
    let rows = (d.rows || []).slice();
    if (sort && cols.includes(sort.col)) {
      rows.sort((a, b) => {
        const x = a[sort.col], y = b[sort.col];
        const c = x == null ? -1 : y == null ? 1 : typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return sort.desc ? -c : c;
      });
    }
    const seen = ui.seen[id] || (ui.seen[id] = new Set());
    const first = seen.size === 0;
    el.dataset.rows = String(rows.length);
    if (!rows.length) { el.innerHTML = '<tr><td class="muted">no rows yet</td></tr>'; return; }
    el.innerHTML = `<thead><tr>${cols.map((c) => `<th class="sortable${sort && sort.col === c ? " sorted" + (sort.desc ? "" : " asc") : ""}" ` +
      `data-col="${esc(c)}">${esc(c)}</th>`).join("")}</tr></thead><tbody>` + rows.map((r) => {
      const k = keys.map((c) => r[c]).join("\u0000"), fresh = !first && !seen.has(k);
      seen.add(k);
      return `<tr${fresh ? ' class="fresh"' : ""}>${cols.map((c) => `<td>${cell(r[c], times.has(c))}</td>`).join("")}</tr>`;
    }).join("") + "</tbody>" + (d.more ? `<tfoot><tr><td class="muted" colspan="${cols.length}">newest ${rows.length} shown</td></tr></tfoot>` : "");
  }

  function drawLine(box, p, d) {
    let el = box.querySelector(".chart");
    if (!el) { box.querySelector(".content").innerHTML = '<div class="chart"></div>'; el = box.querySelector(".chart"); }
    const rows = d.rows || [], styles = p.styles || {};
    const series = (d.y || []).map((y, i) => ({name: y, color: styles[y], dash: i > 0 && (d.y || []).length > 1,
      points: rows.map((r) => [r[d.x], r[y]])}));
    line(el, {label: p.title || p.output, zero: p.zero !== false, legend: true, time: d.time, empty: "no rows yet",
      series, markers: (d.markers || []).map((m) => ({x: m.x, y: m.y, type: m.down ? "sell" : "buy",
        label: `${m.label}${d.time ? " (" + clock(m.x) + ")" : ""}`}))});
    el.dataset.markers = String((d.markers || []).length);
  }

  function drawStat(box, p, d) {
    const vals = d.values || {}, cols = p.y || [];
    box.querySelector(".content").innerHTML = `<div class="tiles stats">` + cols.map((c) =>
      `<div class="tile"><b data-testid="stat-${esc(slug(p.output))}-${esc(slug(c))}">${vals[c] == null ? "–" : esc(fmt(vals[c]))}</b>` +
      `<span>${esc(c)}</span></div>`).join("") + "</div>";
  }

  function drawPanel(box, p, i, ui) {
    const content = box.querySelector(".content");
    if (p.error || !p.data) {
      content.innerHTML = '<div class="chart"></div>';
      empty(content.firstChild, p.error ? "cannot show: " + p.error : p.empty || "no rows yet");
      return;
    }
    if (content.querySelector(".chart-empty")) content.innerHTML = "";
    if (p.kind === "timeseries") drawTimeseries(box, p, p.data, ui);
    else if (p.kind === "top") drawTop(box, p, p.data, i);
    else if (p.kind === "table") drawTable(box, p, p.data, ui);
    else if (p.kind === "line") drawLine(box, p, p.data);
    else if (p.kind === "stat") drawStat(box, p, p.data);
    else empty(content, "unknown panel kind " + p.kind);
  }

  function draw(container, views, ui) {
    const names = Object.keys(views || {});
    const none = container.querySelector("#no-views");
    if (none) none.hidden = names.length > 0;
    for (const el of Array.from(container.querySelectorAll("article[data-pipeline]"))) {
      if (!names.includes(el.dataset.pipeline)) el.remove();
    }
    for (const name of names) {
      const v = views[name] || {}, el = card(container, name);
      if (!frame(el, v)) continue;
      picker(el, v, ui);
      el.querySelector(`[data-testid="records-${slug(name)}"]`).textContent = fmt(v.records);
      el.querySelector(`[data-testid="dlq-${slug(name)}"]`).textContent = fmt(v.dead_letters);
      el.querySelector(`[data-testid="outputs-${slug(name)}"]`).textContent = fmt((v.outputs || []).length);
      layout(el, v).forEach((box, i) => drawPanel(box, v.panels[i], i, ui));
    }
  }

  return {draw, slug};
})();
