// EarlyWarning dashboard: vanilla JS, no external code, works offline. Every piece of data goes into the page
// through textContent or SVG attributes, never parsed as HTML, because post text and scopes come from the public.
'use strict';
(function () {
  const REFRESH_MS = 5000;
  const SVGNS = 'http://www.w3.org/2000/svg';
  const ACTIONS = { acknowledge: 'acknowledged', escalate: 'escalated', dismiss: 'dismissed' };
  const KINDS = ['volume_spike', 'incitement', 'coordinated_campaign', 'influential_escalation', 'emerging_term', 'known_content_match', 'volume_drop'];
  const $ = (id) => document.getElementById(id);
  const open = new Set();          // alerts whose details are expanded
  const details = new Map();       // alert id -> detail JSON
  let timer = null;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
    for (const c of kids) if (c) e.append(c);
    return e;
  }
  const fmtNum = (n) => (typeof n === 'number' ? n.toLocaleString('en', { maximumFractionDigits: 1 }) : '–');
  // Small positive scores (PageRank shares) keep three significant digits instead of rounding to 0.
  const fmtScore = (n) => (typeof n === 'number' && n !== 0 && Math.abs(n) < 1 ? n.toPrecision(3) : fmtNum(n));
  const fmtTime = (t) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) + 'Z' : '–');
  const scopeText = (s) => [s.country, s.region, s.target_group, s.language, s.term].filter(Boolean).join(' / ') || 'all';

  async function api(path, opts) {
    const headers = { Accept: 'application/json' };
    const key = sessionStorage.getItem('ew-key');
    if (key) headers['X-Api-Key'] = key;
    if (opts && opts.body) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, Object.assign({ headers, cache: 'no-store' }, opts));
    if (res.status === 401) {
      const k = window.prompt('API key');
      if (k) { sessionStorage.setItem('ew-key', k); return api(path, opts); }
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) throw new Error((body && body.error) || ('HTTP ' + res.status));
    return body;
  }
  const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== '' && v !== null && v !== undefined)).toString();

  // ---- header: pipeline health --------------------------------------------------------------------------
  async function refreshStats() {
    try {
      const s = await api('/api/stats');
      const p = s.pipeline || {}, st = s.store || {};
      const state = $('state');
      state.textContent = p.state || 'idle';
      state.className = 'state state-' + (p.state || 'idle');
      $('m-rate').textContent = fmtNum(p.posts_per_second);
      $('m-read').textContent = fmtNum(p.posts_read);
      $('m-stored').textContent = fmtNum(st.posts);
      $('m-flagged').textContent = fmtNum(st.flagged_posts);
      $('m-alerts').textContent = fmtNum(st.alerts);
      $('m-dead').textContent = fmtNum(st.dead_letters);
      const q = p.queue_depths || {};
      $('m-queues').textContent = Object.keys(q).length ? Object.entries(q).map(([k, v]) => k + ' ' + v).join(', ') : '–';
      // The stage busiest while the others wait is the one that bounds throughput.
      const b = Object.entries(p.stage_busy || {});
      const top = b.reduce((m, e) => (m === null || e[1] > m[1] ? e : m), null);
      $('m-busy').textContent = b.length ? b.map(([k, v]) => k + ' ' + Math.round(v * 100) + '%').join(', ') : '–';
      $('m-busy').title = top ? 'busiest stage: ' + top[0] + ' (share of recent time working rather than waiting)' : '';
      $('m-watermark').textContent = fmtTime(p.watermark);
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      $('state').textContent = 'offline';
      $('state').className = 'state state-offline';
    }
  }

  // ---- alert feed ----------------------------------------------------------------------------------------
  function alertFilter() {
    return qs({ status: $('f-status').value, min_severity: $('f-severity').value, kind: $('f-kind').value,
      country: $('f-country').value.trim(), limit: 1000 });
  }

  async function refreshAlerts() {
    const list = $('alert-list');
    // Do not redraw under someone typing a dismissal reason.
    if (list.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') return;
    const err = $('alert-error');
    try {
      const r = await api('/api/alerts?' + alertFilter());
      err.hidden = true;
      const frag = document.createDocumentFragment();
      for (const a of r.alerts) frag.append(renderAlert(a));
      list.replaceChildren(frag);
      $('alert-count').textContent = String(r.alerts.length);
    } catch (e) {
      err.textContent = 'Alerts could not be loaded: ' + e.message;
      err.hidden = false;
    }
  }

  function renderAlert(a) {
    const li = el('li', { class: 'alert sev-' + a.severity + ' st-' + a.status, 'data-id': a.id, 'data-status': a.status });
    li.append(el('div', { class: 'top' },
      el('span', { class: 'sev', text: a.severity }),
      el('span', { class: 'kind', text: a.kind.replace(/_/g, ' ') }),
      el('span', { class: 'scope', text: scopeText(a.scope) }),
      el('span', { class: 'status', text: a.status }),
      el('span', { class: 'muted', text: fmtTime(a.window.start) + ' – ' + fmtTime(a.window.end) })));
    li.append(el('p', { class: 'explanation', text: a.explanation }));
    li.append(el('div', { class: 'muted', text: 'observed ' + fmtNum(a.observed) + ' vs baseline ' + fmtNum(a.baseline) +
      ' · score ' + fmtNum(a.score) + ' · ' + a.evidence_posts + ' evidence posts' + (a.model ? ' · ' + a.model : '') }));
    const actions = el('div', { class: 'actions' });
    const toggle = el('button', { type: 'button', 'aria-expanded': open.has(a.id) ? 'true' : 'false', text: 'Evidence' });
    toggle.addEventListener('click', () => toggleDetails(li, a.id, toggle));
    actions.append(toggle);
    for (const action of Object.keys(ACTIONS)) {
      const b = el('button', { type: 'button', 'data-action': action, text: action,
        disabled: a.status === ACTIONS[action] ? true : null });
      b.addEventListener('click', () => (action === 'dismiss' ? askReason(li, a.id) : setStatus(a.id, ACTIONS[action], null)));
      actions.append(b);
    }
    li.append(actions);
    if (open.has(a.id) && details.has(a.id)) li.append(renderDetails(details.get(a.id)));
    return li;
  }

  function askReason(li, id) {
    if (li.querySelector('.reason')) return;
    const input = el('input', { 'aria-label': 'Reason for dismissing', maxlength: 1000, placeholder: 'why is this alert wrong?', required: true });
    const form = el('form', { class: 'controls reason' }, input,
      el('button', { type: 'submit', 'data-action': 'confirm-dismiss', text: 'Dismiss' }),
      el('button', { type: 'button', text: 'Cancel', onclick: () => form.remove() }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (input.value.trim()) { input.blur(); setStatus(id, 'dismissed', input.value.trim()); }
    });
    li.append(form);
    input.focus();
  }

  async function setStatus(id, status, note) {
    try {
      const d = await api('/api/alerts/' + encodeURIComponent(id) + '/status', { method: 'POST', body: JSON.stringify({ status, note }) });
      details.set(id, d);
      if (document.activeElement) document.activeElement.blur();
    } catch (e) {
      window.alert('Status not changed: ' + e.message);
    }
    await refreshAlerts();
  }

  async function toggleDetails(li, id, btn) {
    if (open.has(id)) {
      open.delete(id);
      btn.setAttribute('aria-expanded', 'false');
      const d = li.querySelector('.details');
      if (d) d.remove();
      return;
    }
    open.add(id);
    btn.setAttribute('aria-expanded', 'true');
    try {
      const d = await api('/api/alerts/' + encodeURIComponent(id));
      details.set(id, d);
      li.append(renderDetails(d));
    } catch (e) {
      li.append(el('div', { class: 'details error', text: e.message }));
    }
  }

  function list(title, items, cls, mapper) {
    if (!items || !items.length) return null;
    return el('div', {}, el('strong', { text: title }), el('ul', {}, ...items.map((x) => el('li', { class: cls || null }, mapper ? mapper(x) : x))));
  }

  function renderDetails(d) {
    const ev = d.evidence || {};
    return el('div', { class: 'details' },
      list('Excerpts', ev.excerpts, 'excerpt'),
      list('Top terms', ev.top_terms),
      list('Accounts (pseudonyms)', ev.accounts, null, (a) => el('button', { type: 'button', class: 'linkish', text: a, onclick: () => showEgo(a) })),
      list('Evidence posts', (ev.post_ids || []).slice(0, 20), null, (p) => el('button', { type: 'button', class: 'linkish', text: p, onclick: () => showPost(p) })),
      list('Audit trail', d.audit, null, (x) => fmtTime(x.at) + ' ' + x.actor + ': ' + x.action + (x.note ? ' – ' + x.note : '')));
  }

  async function showPost(id) {
    try {
      const p = await api('/api/posts/' + encodeURIComponent(id));
      $('search-results').replaceChildren(renderPost(p));
      $('search-info').textContent = 'Post ' + id;
      location.hash = '#search';
    } catch (e) { $('search-info').textContent = e.message; }
  }

  // ---- timeline ------------------------------------------------------------------------------------------
  let regionsKnown = [];

  function fillSelect(sel, values, allText) {
    const cur = sel.value;
    sel.replaceChildren(el('option', { value: '', text: allText }), ...values.map((v) => el('option', { value: v, text: v })));
    if (values.includes(cur)) sel.value = cur;
  }

  async function refreshTimeline() {
    const country = $('tl-country').value, region = $('tl-region').value, label = $('tl-label').value;
    const charts = [];
    try {
      const overview = await api('/api/timeline?' + qs({ country, label, group_by: 'region' }));
      regionsKnown = overview.regions || [];
      fillSelect($('tl-country'), [...new Set(regionsKnown.map((r) => r.country))], 'all');
      fillSelect($('tl-region'), regionsKnown.filter((r) => !$('tl-country').value || r.country === $('tl-country').value).map((r) => r.region), 'all regions');
      charts.push(chart((country || 'All countries') + ': by region', overview, (s) => s.region === '*' ? 'all' : s.country + ' ' + s.region));
      if (region) {
        const detail = await api('/api/timeline?' + qs({ country, region, label, group_by: 'target_group' }));
        charts.push(chart(region + ': by target group', detail, (s) => s.target_group === '*' ? 'all' : s.target_group));
      }
      $('tl-charts').replaceChildren(...charts);
    } catch (e) {
      $('tl-charts').replaceChildren(el('p', { class: 'error', text: 'Timeline could not be loaded: ' + e.message }));
    }
  }

  function chart(title, tl, name) {
    const W = 640, H = 190, L = 40, R = 10, T = 14, B = 22;
    const series = tl.series || [];
    const box = el('figure', { class: 'chart' }, el('h3', { text: title }));
    const pts = series.flatMap((s) => s.points);
    if (!pts.length) { box.append(el('p', { class: 'muted', text: 'No data yet.' })); return box; }
    const step = tl.bucket_seconds || 300;
    const t0 = Math.min(...pts.map((p) => p[0])), t1 = Math.max(...pts.map((p) => p[0])) + step;
    const ymax = Math.max(1, ...pts.map((p) => p[1]));
    const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
    const y = (v) => H - B - (v / ymax) * (H - T - B);
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title + ', peak ' + ymax + ' posts per bucket' });
    s.append(svg('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }), svg('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }));
    const label = (tx, ty, txt, anchor) => { const t = svg('text', { x: tx, y: ty, 'text-anchor': anchor || 'start' }); t.textContent = txt; return t; };
    s.append(label(L - 4, T + 4, String(ymax), 'end'), label(L - 4, H - B, '0', 'end'));
    s.append(label(L, H - 6, fmtTime(t0 * 1000)), label(W - R, H - 6, fmtTime(t1 * 1000), 'end'));
    const legend = el('ul', { class: 'legend' });
    let ci = 0;
    for (const ser of series.slice(0, 12)) {
      const isTotal = ser.region === '*' && ser.target_group === '*' || name(ser) === 'all';
      const cls = isTotal ? 'series total' : 'series c' + (ci++ % 8);
      // Stores keep only non-empty buckets: draw the missing ones as zero rather than bridging the gap.
      const byT = new Map(ser.points.map((p) => [p[0], p[1]]));
      const dense = [];
      if ((t1 - t0) / step <= 5000) for (let t = t0; t < t1; t += step) dense.push([t, byT.get(t) || 0]);
      else dense.push(...ser.points);
      const d = dense.map((p, i) => (i ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1)).join(' ');
      const path = svg('path', { class: cls, d });
      const tt = svg('title'); tt.textContent = name(ser) + ': ' + ser.total + ' posts'; path.append(tt);
      s.append(path);
      legend.append(el('li', {}, el('span', { class: 'sw ' + (isTotal ? 'ctotal' : cls.replace('series ', '')) }), name(ser) + ' (' + ser.total + ')'));
    }
    for (const m of tl.alerts || []) {
      const t = Date.parse(m.start) / 1000;
      if (t < t0 || t > t1) continue;
      const mx = x(t);
      const tri = svg('path', { class: 'marker', d: `M${mx.toFixed(1)} ${T} l-5 9 h10 z`, 'data-alert': m.id });
      const tt = svg('title'); tt.textContent = m.severity + ' ' + m.kind + ' ' + [m.region, m.target_group].filter(Boolean).join(' / ') + ' at ' + fmtTime(m.start);
      tri.append(tt);
      s.append(tri);
    }
    box.append(s, legend);
    if (tl.truncated) box.append(el('p', { class: 'muted', text: 'Some small series are left out.' }));
    return box;
  }

  // ---- search --------------------------------------------------------------------------------------------
  function renderPost(p) {
    const sel = el('select', { 'aria-label': 'Correct label' }, ...['none', 'offensive', 'hate'].map((l) => el('option', { value: l, text: l })));
    sel.value = p.label || 'none';
    const msg = el('span', { class: 'muted', 'aria-live': 'polite' });
    const send = el('button', { type: 'button', text: 'Give feedback' });
    send.addEventListener('click', async () => {
      try {
        await api('/api/feedback', { method: 'POST', body: JSON.stringify({ post_id: p.id, label: sel.value, note: null }) });
        msg.textContent = 'thanks – recorded';
      } catch (e) { msg.textContent = e.message; }
    });
    return el('li', { class: 'post', 'data-id': p.id },
      el('div', { class: 'muted', text: fmtTime(p.created_at) + ' · ' + p.author + ' · ' + [p.country, p.region].filter(Boolean).join(' / ') +
        ' · ' + (p.label || 'unclassified') + (p.target ? ' → ' + p.target : '') + (p.incitement >= 0.5 ? ' · incitement' : '') }),
      el('p', { class: 'text', text: p.text, lang: p.lang || null }),
      p.explanation && p.explanation.length ? el('div', { class: 'muted', text: 'why: ' + p.explanation.slice(0, 6).join(', ') }) : null,
      el('div', { class: 'actions' }, sel, send, msg));
  }

  async function search(ev) {
    ev.preventDefault();
    const q = $('search-q').value.trim();
    if (!q) return;
    $('search-info').textContent = 'searching…';
    try {
      const r = await api('/api/posts/search?' + qs({ q, limit: 50 }));
      $('search-info').textContent = r.count + ' posts';
      $('search-results').replaceChildren(...r.posts.map(renderPost));
    } catch (e) { $('search-info').textContent = e.message; }
  }

  // ---- network -------------------------------------------------------------------------------------------
  async function refreshNetwork() {
    try {
      const [amp, cl] = await Promise.all([api('/api/network/amplifiers?limit=15'), api('/api/network/clusters?limit=10')]);
      $('amplifiers').tBodies[0].replaceChildren(...amp.amplifiers.map((a) => el('tr', {},
        el('td', {}, el('button', { type: 'button', class: 'linkish', text: a.account, onclick: () => showEgo(a.account) })),
        el('td', { class: 'num', text: fmtScore(a.score) }), el('td', { class: 'num', text: fmtNum(a.flagged_posts) }),
        el('td', { class: 'num', text: fmtNum(a.followers) }))));
      $('clusters').replaceChildren(...cl.clusters.map((c) => el('li', {},
        el('strong', { text: c.id }), ' ', c.size + ' accounts, ' + c.flagged_posts + ' flagged posts ',
        c.coordinated ? el('span', { class: 'badge', text: 'coordinated' }) : null, ' ',
        ...c.top_accounts.slice(0, 5).map((a) => el('button', { type: 'button', class: 'linkish', text: a + ' ', onclick: () => showEgo(a) })))));
      if (!amp.amplifiers.length && !cl.clusters.length) $('clusters').replaceChildren(el('li', { class: 'muted', text: 'No network data yet.' }));
    } catch (e) {
      $('clusters').replaceChildren(el('li', { class: 'error', text: e.message }));
    }
  }

  function showEgo(account) {
    $('ego-account').value = account;
    location.hash = '#network';
    loadEgo();
  }

  async function loadEgo(ev) {
    if (ev) ev.preventDefault();
    const account = $('ego-account').value.trim();
    if (!account) return;
    $('ego-info').textContent = 'loading…';
    try {
      const g = await api('/api/network/ego/' + encodeURIComponent(account) + '?' + qs({ depth: $('ego-depth').value, max_nodes: 80 }));
      $('ego-info').textContent = g.nodes.length + ' accounts, ' + g.edges.length + ' links';
      $('ego').replaceChildren(drawEgo(g));
    } catch (e) {
      $('ego-info').textContent = e.message;
      $('ego').replaceChildren();
    }
  }

  // Radial layout: the centre account in the middle, each hop on its own ring, spread evenly by angle.
  function drawEgo(g) {
    const W = 560, H = 420, cx = W / 2, cy = H / 2;
    const rings = new Map();
    for (const n of g.nodes) { if (!rings.has(n.hop)) rings.set(n.hop, []); rings.get(n.hop).push(n); }
    const pos = new Map();
    const maxHop = Math.max(1, ...rings.keys());
    for (const [hop, nodes] of rings) {
      const r = hop === 0 ? 0 : (hop / maxHop) * (Math.min(W, H) / 2 - 30);
      nodes.sort((a, b) => (a.cluster || '').localeCompare(b.cluster || '') || a.id.localeCompare(b.id));
      nodes.forEach((n, i) => {
        const a = (2 * Math.PI * i) / Math.max(1, nodes.length) + hop * 0.4;
        pos.set(n.id, [cx + r * Math.cos(a), cy + r * Math.sin(a)]);
      });
    }
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Ego network of ' + g.center + ': ' + g.nodes.length + ' accounts' });
    for (const e of g.edges) {
      const a = pos.get(e.source), b = pos.get(e.target);
      if (!a || !b) continue;
      const line = svg('line', { class: 'edge', x1: a[0].toFixed(1), y1: a[1].toFixed(1), x2: b[0].toFixed(1), y2: b[1].toFixed(1), 'stroke-width': Math.min(4, 0.6 + Math.log1p(e.weight || 1)).toFixed(2) });
      const t = svg('title'); t.textContent = e.source + ' → ' + e.target + ' (' + e.kind + ')'; line.append(t);
      s.append(line);
    }
    for (const n of g.nodes) {
      const [x, y] = pos.get(n.id);
      const c = svg('circle', { class: 'node ' + (n.hop === 0 ? 'center' : 'hop' + n.hop), cx: x.toFixed(1), cy: y.toFixed(1), r: n.hop === 0 ? 9 : 4 + Math.min(5, Math.log1p(n.flagged_posts || 0)), 'data-id': n.id });
      const t = svg('title'); t.textContent = n.id + (n.cluster ? ' · cluster ' + n.cluster : '') + ' · ' + (n.flagged_posts || 0) + ' flagged'; c.append(t);
      c.addEventListener('click', () => showEgo(n.id));
      s.append(c);
      if (n.hop <= 1 && g.nodes.length <= 30 || n.hop === 0) {
        const label = svg('text', { x: (x + 7).toFixed(1), y: (y - 5).toFixed(1) }); label.textContent = n.id; s.append(label);
      }
    }
    return s;
  }

  // ---- dead letters --------------------------------------------------------------------------------------
  async function refreshDeadLetters() {
    try {
      const r = await api('/api/deadletters?limit=50');
      $('dl-table').tBodies[0].replaceChildren(...r.dead_letters.map((d) => el('tr', {},
        el('td', { text: d.reason }), el('td', { text: d.source }), el('td', { class: 'num', text: String(d.offset) }),
        el('td', { class: 'num', text: String(d.size) }), el('td', { text: fmtTime(d.received_at) }))));
    } catch (e) { /* the header shows the server as offline */ }
  }

  // ---- partner reports: a form, and the status of the reports sent from this browser ---------------------
  const MY_REPORTS = 'ew-my-reports';
  const myReports = () => { try { return JSON.parse(localStorage.getItem(MY_REPORTS) || '[]'); } catch (e) { return []; } };
  const REPORT_STATUS = { queued: 'queued', stored: 'analysed', processed_not_kept: 'analysed (not kept: not flagged)', cited_by_alerts: 'cited by alerts' };

  async function sendReport(ev) {
    ev.preventDefault();
    const val = (id) => $(id).value.trim() || null;
    const body = { text: $('r-text').value, lang: val('r-lang'), original_url: val('r-url') };
    if (val('r-country') || val('r-region')) body.geo = { country: val('r-country'), region: val('r-region') };
    try {
      const r = await api('/api/reports', { method: 'POST', body: JSON.stringify(body) });
      const list = myReports().filter((x) => x !== r.report_id);
      list.unshift(r.report_id);
      localStorage.setItem(MY_REPORTS, JSON.stringify(list.slice(0, 50)));
      $('report-info').textContent = 'Report ' + r.report_id + ' received.';
      $('report-form').reset();
      refreshReports();
    } catch (e) { $('report-info').textContent = 'Not sent: ' + e.message; }
  }

  async function refreshReports() {
    const ids = myReports();
    const items = await Promise.all(ids.map(async (id) => {
      try { return await api('/api/reports/' + encodeURIComponent(id)); } catch (e) { return { report_id: id, error: e.message }; }
    }));
    $('my-reports').replaceChildren(...items.map((r) => {
      const d = r.decision;
      return el('li', { class: 'report', 'data-report': r.report_id },
        el('strong', { text: 'Report ' + r.report_id + ': ' }),
        r.error ? el('span', { class: 'error', text: r.error }) : el('span', { text: REPORT_STATUS[r.status] || r.status }),
        d ? el('span', { class: 'muted', text: ' — ' + d.label + (d.target ? ' (' + d.target + ')' : '') }) : null,
        r.alerts && r.alerts.length ? el('span', { text: ' — alerts: ' + r.alerts.join(', ') }) : null);
    }));
  }

  // ---- refresh loop --------------------------------------------------------------------------------------
  async function tick() {
    clearTimeout(timer);
    if (!document.hidden) {
      await Promise.all([refreshStats(), refreshAlerts()]);
      await refreshTimeline();
      await Promise.all([refreshNetwork(), refreshDeadLetters(), refreshReports()]);
    }
    timer = setTimeout(tick, REFRESH_MS);
  }

  function init() {
    fillSelect($('f-kind'), KINDS, 'any');
    for (const id of ['f-status', 'f-severity', 'f-kind']) $(id).addEventListener('change', refreshAlerts);
    $('f-country').addEventListener('change', refreshAlerts);
    $('alert-filter').addEventListener('submit', (e) => { e.preventDefault(); refreshAlerts(); });
    $('tl-country').addEventListener('change', () => { $('tl-region').value = ''; refreshTimeline(); });
    for (const id of ['tl-region', 'tl-label']) $(id).addEventListener('change', refreshTimeline);
    $('tl-form').addEventListener('submit', (e) => e.preventDefault());
    $('search-form').addEventListener('submit', search);
    $('ego-form').addEventListener('submit', loadEgo);
    $('report-form').addEventListener('submit', sendReport);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) tick(); });
    tick();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
