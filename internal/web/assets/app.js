// tensionwatch watch page: polls the JSON API and renders it. Everything a
// feed wrote goes through textContent (never innerHTML), clipped, and bidi-
// isolated in CSS, so hostile titles stay text.
"use strict";
(function () {
  const MAX_TITLE = 180;
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const clip = (s, n) => {
    s = String(s == null ? "" : s).replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, " ");
    const chars = Array.from(s);
    return chars.length > n ? chars.slice(0, n - 1).join("") + "…" : s;
  };
  const label = (id) => String(id).replace(/_/g, " ");
  const fmt = (v) => (Math.round(v * 10) / 10).toFixed(1);
  const safeLink = (u) => /^https?:\/\//i.test(u || "") ? u : null;
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

  function spark(svg, values) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!values || values.length < 2) return;
    const w = 300, h = 40, max = 100;
    const pts = values.map((v, i) => `${(i / (values.length - 1)) * w},${h - (v / max) * h}`).join(" ");
    const pl = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    pl.setAttribute("points", pts);
    svg.appendChild(pl);
  }

  function tile(id, n, history) {
    const t = el("div", "tile");
    t.dataset.id = id;
    t.appendChild(el("div", "name", label(id)));
    const nodata = n.band === "no_data";
    const v = el("div", "value b-" + n.band, nodata ? "NO DATA" : fmt(n.value));
    v.dataset.value = nodata ? "" : n.value;
    t.appendChild(v);
    if (nodata) t.appendChild(el("div", "z", "no data"));
    else if (n.zscore !== undefined && n.zscore !== null) t.appendChild(el("div", "z", "z " + fmt(n.zscore) + " · " + n.band));
    else t.appendChild(el("div", "z", n.band));
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 300 40");
    svg.setAttribute("preserveAspectRatio", "none");
    t.appendChild(svg);
    spark(svg, history);
    return t;
  }

  function render(idx, hist, status, alerts) {
    const g = idx.gauge;
    // Blind: no feed fetched within two poll intervals. A number would
    // read as calm; the page says NO DATA in grey instead.
    const blind = !!(idx.watch && idx.watch.blind);
    document.body.classList.toggle("blind", blind);
    const gv = document.getElementById("gauge-value");
    gv.textContent = blind ? "NO DATA" : fmt(g.value);
    gv.dataset.value = blind ? "" : g.value;
    gv.classList.toggle("b-no_data", blind);
    const band = document.getElementById("gauge-band");
    band.textContent = blind ? clip(idx.watch.reason, 120) : g.band;
    band.className = "band-label b-" + (blind ? "no_data" : g.band);
    document.getElementById("needle").style.transform = blind ? "rotate(-90deg)" : `rotate(${(g.value / 100) * 180 - 90}deg)`;
    document.getElementById("methodology").textContent = idx.methodology_version;
    spark(document.getElementById("gauge-spark"), hist.index);

    for (const [key, id] of [["regions", "regions"], ["categories", "categories"]]) {
      const box = document.getElementById(id);
      box.replaceChildren(...Object.keys(idx[key]).sort((a, b) => idx[key][b].value - idx[key][a].value || a.localeCompare(b))
        .map((k) => tile(k, idx[key][k], (hist[key] || {})[k])));
    }

    // Incidents: heaviest first across regions, then newest.
    const seen = new Set(), list = [];
    for (const r of Object.values(idx.regions)) for (const c of r.top || []) {
      if (!seen.has(c.incident_id)) { seen.add(c.incident_id); list.push(c); }
    }
    list.sort((a, b) => b.score - a.score || new Date(b.published) - new Date(a.published));
    const ol = document.getElementById("incidents");
    ol.replaceChildren(...list.slice(0, 20).map((c) => {
      const li = el("li");
      li.appendChild(el("div", "title", clip(c.title, MAX_TITLE)));
      const when = new Date(c.published);
      const mag = magnitude(c.magnitude);
      li.appendChild(el("div", "meta", `${label(c.type)} · ${label(c.region)}${mag ? " · " + mag : ""} · score ${fmt(c.score)} · ${c.reports} report${c.reports === 1 ? "" : "s"} · ${isNaN(when) ? "" : when.toISOString().slice(0, 16).replace("T", " ") + " UTC"}`));
      const src = el("div", "sources");
      for (const s of (c.sources || []).slice(0, 6)) {
        const href = safeLink(s.link);
        const a = el(href ? "a" : "span", null, clip(s.outlet || "source", 40));
        if (href) { a.href = href; a.rel = "noopener noreferrer"; a.target = "_blank"; a.title = clip(s.title, 200); }
        src.appendChild(a);
      }
      li.appendChild(src);
      return li;
    }));
    if (!list.length) ol.replaceChildren(el("li", "meta", "No incidents in the window."));

    const ul = document.getElementById("alerts");
    ul.replaceChildren(...(alerts.alerts.length ? alerts.alerts.map((a) => el("li", a.severity, `${a.name} · ${label(a.region)} · ${a.summary}`)) : [el("li", "none", "none")]));

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
      const [idx, hist, status, alerts] = await Promise.all([
        getJSON("/api/v1/index?top=10"), getJSON("/api/v1/history?hours=72"),
        getJSON("/api/v1/status"), getJSON("/api/v1/alerts")]);
      render(idx, hist, status, alerts);
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
