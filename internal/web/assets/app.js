// tensionwatch watch page: polls the JSON API and renders it. Everything a
// feed wrote goes through textContent (never innerHTML), clipped, and bidi-
// isolated in CSS, so hostile titles stay text.
"use strict";
(function () {
  const MAX_TITLE = 180;
  const MAX_INCIDENTS = 15;
  const MAX_CHAINS = 3; // live chains shown; the API is asked for a few more to count them
  const HISTORY_HOURS = 168;
  const SVG = "http://www.w3.org/2000/svg";
  const HOUR = 3600e3, DAY = 24 * HOUR;
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  const clip = (s, n) => {
    s = String(s == null ? "" : s).replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, " ");
    const chars = Array.from(s);
    return chars.length > n ? chars.slice(0, n - 1).join("") + "…" : s;
  };
  const label = (id) => String(id).replace(/_/g, " ");
  const fmt = (v) => (Math.round(v * 10) / 10).toFixed(1);
  const weight = (w) => String(+w.toPrecision(2));
  const safeLink = (u) => /^https?:\/\//i.test(u || "") ? u : null;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const when = (d) => isNaN(d) ? "" :
    `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.toISOString().slice(11, 16)} UTC`;
  // day is a date as the chains API writes it: "8 Apr 2023" (UTC).
  const day = (d) => isNaN(d) ? "" : `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  const magnitude = (m) => {
    if (!m) return "";
    const parts = [];
    if (m.aircraft) parts.push(m.aircraft + " aircraft");
    if (m.ships) parts.push(m.ships + " ships");
    if (m.missiles) parts.push(m.missiles + " missiles");
    if (m.live_fire) parts.push("live fire");
    if (m.exercise) parts.push(clip(m.exercise, 40));
    return parts.join(", ");
  };

  // What the API says about the regions and bands, kept from the last
  // index response.
  let regionInfo = {}, bands = [], sides = {};
  const sideName = (id) => clip(sides[id] || label(id), 20);
  // who: "PRC → Taiwan", or the actor alone when the act names no target.
  const who = (actor, target) => actor ? sideName(actor) + (target ? " → " + sideName(target) : "") : "";
  const regionName = (id) => regionInfo[id] && regionInfo[id].default ? "region-wide / unplaced" : label(id);
  const bandOf = (v) => {
    let name = "";
    for (const b of bands) if (v >= b.min) name = b.name;
    return name;
  };

  // spark draws values (at times, oldest first, then value `last` at `end`)
  // across the whole width of its SVG: x is time, y the 0..100 scale with
  // the bands' thresholds dashed and a faint line every day back from
  // `end`. The axis under it labels the start, the days (when `days`) and
  // "now".
  function spark(svg, axis, times, values, end, last, days) {
    svg.replaceChildren();
    axis.replaceChildren();
    const w = 300, h = 40;
    const ts = (times || []).map((t) => new Date(t).getTime());
    const start = ts.length ? ts[0] : end - DAY;
    const span = Math.max(end - start, HOUR);
    const x = (t) => ((t - start) / span) * w;
    const y = (v) => h - 1 - (Math.max(0, Math.min(100, v)) / 100) * (h - 2);
    for (const b of bands) {
      if (b.min > 0) svg.appendChild(svgEl("line", { class: "band band-" + b.name, x1: 0, x2: w, y1: y(b.min), y2: y(b.min) }));
    }
    const ticks = [];
    for (let t = end - DAY; t > start + HOUR; t -= DAY) ticks.unshift(t);
    for (const t of ticks) svg.appendChild(svgEl("line", { x1: x(t), x2: x(t), y1: 0, y2: h }));
    const pts = [];
    (values || []).forEach((v, i) => { if (i < ts.length) pts.push(`${x(ts[i]).toFixed(2)},${y(v).toFixed(2)}`); });
    if (typeof last === "number") pts.push(`${w},${y(last).toFixed(2)}`);
    if (pts.length >= 2) svg.appendChild(svgEl("polyline", { points: pts.join(" ") }));

    const inDays = span >= 2 * DAY;
    const ago = (ms) => inDays ? `−${Math.round(ms / DAY)} d` : `−${Math.round(ms / HOUR)} h`;
    const at = (cls, pos, text) => {
      const s = el("span", cls, text);
      s.style.left = pos + "%";
      axis.appendChild(s);
    };
    at("start", 0, ago(end - start));
    if (days) for (const t of ticks) {
      const pos = (x(t) / w) * 100;
      if (pos > 16 && pos < 88) at("tick", pos, ago(end - t));
    }
    at("end", 100, "now");
  }

  function trend() {
    const box = el("div", "trend");
    const svg = svgEl("svg", { class: "spark", viewBox: "0 0 300 40", preserveAspectRatio: "none", "aria-hidden": "true" });
    const axis = el("div", "axis");
    axis.setAttribute("aria-hidden", "true");
    box.append(svg, axis);
    return { box, svg, axis };
  }

  function tile(id, n, isRegion, hist, end) {
    const t = el("div", "tile");
    t.dataset.id = id;
    const info = isRegion ? regionInfo[id] : null;
    t.appendChild(el("div", "name", isRegion ? regionName(id) : label(id)));
    if (info) t.title = label(id) + ": " + info.description;
    if (info && info.default) {
      t.classList.add("default");
      t.appendChild(el("div", "note", "no single place · not the gauge"));
    }
    const nodata = n.band === "no_data";
    const row = el("div", "row");
    const v = el("span", "value b-" + n.band, nodata ? "NO DATA" : fmt(n.value));
    v.dataset.value = nodata ? "" : n.value;
    row.appendChild(v);
    if (!nodata) {
      const z = n.zscore !== undefined && n.zscore !== null ? " · z " + fmt(n.zscore) : "";
      row.appendChild(el("span", "z", n.band + z));
    }
    t.appendChild(row);
    const tr = trend();
    t.appendChild(tr.box);
    spark(tr.svg, tr.axis, hist.times, ((isRegion ? hist.regions : hist.categories) || {})[id], end, n.value, false);
    return t;
  }

  // relation says how the gauge is made from the regions, from the API's
  // own parameters and numbers.
  function relation(idx, blind) {
    const p = idx.parameters || {};
    const ids = Object.keys(idx.regions);
    const box = document.getElementById("gauge-relation");
    box.replaceChildren();
    if (!ids.length || typeof p.aggregation !== "number") return;
    const a = p.aggregation;
    let text = `Weighs the incidents of all ${ids.length} regions together (the strongest of each class in each region), ×1, ×${weight(a)}, ×${weight(a * a)} … from the strongest`;
    if (typeof p.max_deescalation === "number") text += `; talks offset at most ${Math.round(p.max_deescalation * 100)} % of their own region`;
    box.appendChild(document.createTextNode(text + "."));
    if (blind) return;
    const hot = ids.slice().sort((x, y) => idx.regions[y].value - idx.regions[x].value || x.localeCompare(y))[0];
    box.appendChild(document.createTextNode(" So it reads at least the hottest region: "));
    box.appendChild(el("b", null, `${regionName(hot)} ${fmt(idx.regions[hot].value)}`));
    box.appendChild(document.createTextNode("."));
  }

  // sources collapses an incident's reports by outlet: "Reuters ×3 · AP",
  // each outlet linked to its first report.
  function sources(c) {
    const box = el("div", "sources");
    const groups = new Map();
    for (const s of c.sources || []) {
      const name = clip(s.outlet || "source", 40);
      const g = groups.get(name) || { n: 0, link: null, title: "" };
      g.n++;
      if (!g.link && safeLink(s.link)) { g.link = safeLink(s.link); g.title = clip(s.title, 200); }
      groups.set(name, g);
    }
    let shown = 0;
    for (const [name, g] of groups) {
      if (shown) box.appendChild(el("span", "sep", " · "));
      shown += g.n;
      const a = el(g.link ? "a" : "span", "src", name + (g.n > 1 ? " ×" + g.n : ""));
      if (g.link) { a.href = g.link; a.rel = "noopener noreferrer"; a.target = "_blank"; a.title = g.title; }
      box.appendChild(a);
    }
    if (c.reports > shown) box.appendChild(el("span", "more", `+${c.reports - shown} more report${c.reports - shown === 1 ? "" : "s"}`));
    return box;
  }

  // answering is an incident card's line naming the move of the other
  // camp it answers: "answering: <title>, <date>".
  function answering(a) {
    const box = el("div", "answering");
    box.appendChild(el("span", "arrow", "← "));
    box.appendChild(document.createTextNode("answering: "));
    const href = safeLink(a.link);
    const t = el(href ? "a" : "span", "ans", clip(a.title, 120));
    if (href) { t.href = href; t.rel = "noopener noreferrer"; t.target = "_blank"; }
    if (a.actor) t.title = "by " + sideName(a.actor);
    box.appendChild(t);
    box.appendChild(document.createTextNode(", " + day(new Date(a.start))));
    return box;
  }

  // chainMove is one move of a chain: its title (linked) on one line, then
  // its date and who acted toward whom.
  function chainMove(m, first) {
    const box = el("div", "move");
    box.dataset.id = m.incident_id;
    const href = safeLink(m.link);
    const t = el(href ? "a" : "span", "t");
    if (!first) t.appendChild(el("span", "arrow", "← "));
    t.appendChild(document.createTextNode(clip(m.title, MAX_TITLE)));
    t.title = clip(m.title, MAX_TITLE);
    if (href) { t.href = href; t.rel = "noopener noreferrer"; t.target = "_blank"; }
    box.appendChild(t);
    const meta = el("div", "m", day(new Date(m.start)) + " · ");
    meta.appendChild(el("span", "who", who(m.actor, m.target)));
    box.appendChild(meta);
    return box;
  }

  // reaction renders "Action and reaction": each dyad's number in its
  // band's colour, then the live chains, newest first, each newest move
  // first with "←" before the move it answers.
  function reaction(ch, blind) {
    const p = ch.parameters || {};
    const hours = parseInt(p.window, 10);
    document.getElementById("reaction-hint").textContent = "newest first · ← answers" +
      (hours ? `, within ${hours % 24 ? hours + " h" : hours / 24 + " days"}` : "");
    const dy = document.getElementById("dyads");
    dy.replaceChildren(...(ch.dyads || []).map((d) => {
      const nodata = blind || d.band === "no_data";
      const li = el("li", "dyad");
      li.dataset.id = d.id;
      li.title = `${clip(d.name, 60)}: ${nodata ? "no data" : label(d.band)}, ${d.incidents} incident${d.incidents === 1 ? "" : "s"}`;
      li.appendChild(el("span", "name", clip(d.name, 60)));
      const v = el("span", "value b-" + (nodata ? "no_data" : d.band), nodata ? "–" : fmt(d.value));
      v.dataset.value = nodata ? "" : d.value;
      li.appendChild(v);
      return li;
    }));
    const live = (ch.chains || []).filter((c) => c.live && c.moves && c.moves.length);
    const ol = document.getElementById("chains");
    const items = live.slice(0, MAX_CHAINS).map((c) => {
      const li = el("li", "chain");
      li.dataset.length = c.moves.length;
      c.moves.slice().reverse().forEach((m, i) => li.appendChild(chainMove(m, i === 0)));
      return li;
    });
    const more = Math.max(ch.count || 0, live.length) - items.length;
    if (more > 0) items.push(el("li", "more", `+${more} more live chain${more === 1 ? "" : "s"} · /api/v1/chains`));
    ol.replaceChildren(...(items.length ? items : [el("li", "none", "No live chains")]));
  }

  function incident(c, blind) {
    const band = blind ? "no_data" : bandOf(c.score);
    const li = el("li", "e-" + band);
    li.dataset.id = c.incident_id;
    li.dataset.score = c.score;
    const score = el("div", "score b-" + band, fmt(c.score));
    score.appendChild(el("small", null, c.deescalatory ? "lowers" : label(band)));
    li.appendChild(score);
    const body = el("div", "body");
    const href = safeLink(c.link);
    const title = el(href ? "a" : "div", "title", clip(c.title, MAX_TITLE));
    if (href) { title.href = href; title.rel = "noopener noreferrer"; title.target = "_blank"; }
    body.appendChild(title);
    const meta = el("div", "meta");
    const kind = c.class && c.class !== c.type ? `${label(c.class)} (${label(c.type)})` : label(c.type);
    meta.appendChild(el("span", "kind", kind));
    const mag = magnitude(c.magnitude);
    const outlets = c.outlets || 0;
    meta.appendChild(document.createTextNode(
      ` · ${regionName(c.region)}${mag ? " · " + mag : ""} · ${c.reports} report${c.reports === 1 ? "" : "s"}, ${outlets} outlet${outlets === 1 ? "" : "s"} · ${when(new Date(c.published))}`));
    if (c.deescalatory) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", "lowers", "lowers the index"));
    }
    body.appendChild(meta);
    if (c.answering) body.appendChild(answering(c.answering));
    body.appendChild(sources(c));
    li.appendChild(body);
    return li;
  }

  function render(idx, hist, status, alerts, chains) {
    sides = {};
    for (const s of chains.sides || []) sides[s.id] = s.name;
    regionInfo = {};
    for (const r of idx.region_info || []) regionInfo[r.id] = r;
    bands = (idx.bands || (idx.parameters || {}).bands || []).slice().sort((a, b) => a.min - b.min);
    const g = idx.gauge;
    const end = new Date(idx.computed_at).getTime() || Date.now();
    // Blind: no feed fetched within two poll intervals. A number would
    // read as calm; the page says NO DATA in grey instead.
    const blind = !!(idx.watch && idx.watch.blind);
    document.body.classList.toggle("blind", blind);
    // A replay (tensionwatch --replay) is old news re-timed to now: the
    // page must never be taken for a live watch.
    const replay = !!(idx.watch && idx.watch.replay);
    document.getElementById("replay").hidden = !replay;
    document.body.classList.toggle("replaying", replay);
    const gv = document.getElementById("gauge-value");
    gv.textContent = blind ? "NO DATA" : fmt(g.value);
    gv.dataset.value = blind ? "" : g.value;
    gv.classList.toggle("b-no_data", blind);
    const band = document.getElementById("gauge-band");
    band.textContent = blind ? clip(idx.watch.reason, 120) : g.band;
    band.className = "band-label b-" + (blind ? "no_data" : g.band);
    document.getElementById("needle").style.transform = blind ? "rotate(-90deg)" : `rotate(${(g.value / 100) * 180 - 90}deg)`;
    document.getElementById("methodology").textContent = idx.methodology_version;
    const gs = document.getElementById("gauge-spark");
    spark(gs, gs.nextElementSibling, hist.times, hist.index, end, g.value, true);
    relation(idx, blind);

    for (const key of ["regions", "categories"]) {
      const box = document.getElementById(key);
      box.replaceChildren(...Object.keys(idx[key]).sort((a, b) => idx[key][b].value - idx[key][a].value || a.localeCompare(b))
        .map((k) => tile(k, idx[key][k], key === "regions", hist, end)));
    }

    // Incidents: heaviest first across regions, then newest.
    const seen = new Set(), list = [];
    for (const r of Object.values(idx.regions)) for (const c of r.top || []) {
      if (!seen.has(c.incident_id)) { seen.add(c.incident_id); list.push(c); }
    }
    list.sort((a, b) => b.score - a.score || new Date(b.published) - new Date(a.published));
    const ol = document.getElementById("incidents");
    ol.replaceChildren(...list.slice(0, MAX_INCIDENTS).map((c) => incident(c, blind)));
    if (!list.length) ol.replaceChildren(el("li", "empty", "No incidents in the window."));

    reaction(chains, blind);

    // Alerts, most severe first as the API orders them; repeats of one
    // alert in one region (a burst of severe events) collapse to one row
    // with a count, so that the list stays on screen in a crisis.
    const groups = new Map();
    for (const a of alerts.alerts) {
      const k = a.severity + "\u0000" + a.name + "\u0000" + a.region;
      if (groups.has(k)) groups.get(k).n++;
      else groups.set(k, { a, n: 1 });
    }
    const ul = document.getElementById("alerts");
    ul.replaceChildren(...(groups.size ? [...groups.values()].map(({ a, n }) => {
      const li = el("li", a.severity);
      li.appendChild(el("b", null, a.name + (n > 1 ? " ×" + n : "")));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "where", a.region === "all" ? "all" : regionName(a.region)));
      li.appendChild(document.createTextNode(" · " + clip(a.summary, 200) + (n > 1 ? ` (and ${n - 1} more)` : "")));
      return li;
    }) : [el("li", "none", "none")]));

    const st = document.getElementById("status");
    const age = status.last_event ? Math.round((Date.now() - new Date(status.last_event)) / 60000) : null;
    let text = `updated ${new Date(idx.computed_at).toISOString().slice(11, 19)} UTC`;
    if (age !== null) text += ` · last event ${age} min ago`;
    if (status.feeds_total) text += ` · feeds ${status.feeds_up}/${status.feeds_total} healthy`;
    if (blind) text = "NO DATA: " + clip(idx.watch.reason, 160) + " · " + text;
    st.textContent = text;
    st.className = "status" + (blind || (status.feeds_total && status.feeds_up < status.feeds_total) ? " down" : "");
  }

  async function getJSON(u) {
    const r = await fetch(u, { cache: "no-store" });
    if (!r.ok) throw new Error(u + ": " + r.status);
    return r.json();
  }

  async function refresh() {
    try {
      const [idx, hist, status, alerts, chains] = await Promise.all([
        getJSON("/api/v1/index?top=10"), getJSON("/api/v1/history?hours=" + HISTORY_HOURS),
        getJSON("/api/v1/status"), getJSON("/api/v1/alerts"), getJSON("/api/v1/chains?live=true&limit=10")]);
      render(idx, hist, status, alerts, chains);
      document.body.dataset.ready = "true";
    } catch (e) {
      const st = document.getElementById("status");
      st.textContent = "cannot reach the scorer: " + e.message;
      st.className = "status stale";
    }
  }

  const theme = document.getElementById("theme");
  const saved = localStorage.getItem("tw-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  theme.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "light" ? "dark" : "light";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("tw-theme", next);
  });
  refresh();
  setInterval(refresh, 15000);
})();
