// The dashboard page: one self-contained HTML document (no scripts from elsewhere, so it works
// on a fleet's isolated network) that listens to /events and redraws: the fleet's totals, a row
// per agent, who heard whom, and for a simulated world its map.

export interface PageSettings {
  broker: string;
  fleet: string | null;
  intervalMs: number;
  peerTimeoutMs: number;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function dashboardPage(p: PageSettings): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetmind dashboard — ${escapeHtml(p.fleet ?? 'every fleet')}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2330; background: #f7f8fa; }
  h1 { font-size: 18px; margin: 0 0 4px; } .sub { color: #5b6475; margin-bottom: 12px; }
  .totals { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 12px; }
  .card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 8px 12px; min-width: 96px; }
  .card b { display: block; font-size: 20px; }
  .grid { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 12px; align-items: start; }
  .table { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric: tabular-nums; font-size: 13px; }
  th, td { border-bottom: 1px solid #eceff3; padding: 3px 6px; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child, td.text { text-align: left; }
  tr[data-state="offline"] td { color: #a0a6b2; } tr[data-state="offline"] td.state { color: #c0392b; font-weight: 600; }
  td.state { color: #1e8449; font-weight: 600; }
  .tier-full { color: #1e8449; } .tier-partial { color: #b9770e; } .tier-none { color: #7d3c98; } .tier-safe { color: #c0392b; }
  svg { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; width: 100%; height: 340px; display: block; }
  h2 { font-size: 13px; color: #5b6475; margin: 0 0 4px; font-weight: 600; }
  .status { color: #5b6475; font-size: 12px; margin-top: 8px; }
</style></head>
<body>
<h1>fleetmind — ${escapeHtml(p.fleet ?? 'every fleet')}</h1>
<div class="sub">broker ${escapeHtml(p.broker)} · updated every ${p.intervalMs} ms · an agent silent for ${p.peerTimeoutMs} ms is offline</div>
<div class="totals">
  <div class="card">online<b id="online">0</b></div>
  <div class="card">offline<b id="offline">0</b></div>
  <div class="card tier-full">full<b id="tier-full">0</b></div>
  <div class="card tier-partial">partial<b id="tier-partial">0</b></div>
  <div class="card tier-none">none<b id="tier-none">0</b></div>
  <div class="card tier-safe">safe<b id="tier-safe">0</b></div>
  <div class="card">messages/s<b id="rate">0</b></div>
  <div class="card">dropped<b id="dropped">0</b></div>
  <div class="card">deadline misses<b id="misses">0</b></div>
</div>
<div class="grid">
  <div class="table">
    <table id="agents"><thead><tr>
      <th>agent</th><th>state</th><th>bundle</th><th>tier</th><th>last tick</th><th>tick p50 / p99 ms</th><th>inference p50 ms</th><th>msg/s</th><th>dropped</th><th>misses</th><th>peers</th>
    </tr></thead><tbody></tbody></table>
  </div>
  <div>
    <h2>who heard whom (last tick)</h2>
    <svg id="graph" viewBox="-1.25 -1.25 2.5 2.5" aria-label="who heard whom"></svg>
    <div id="map-box" style="display:none; margin-top:12px"><h2 id="map-title">the world</h2>
    <svg id="map" viewBox="-1.5 -1.5 3 3" aria-label="the world's map"></svg></div>
  </div>
</div>
<div class="status" id="status">connecting…</div>
<script>
const $ = (id) => document.getElementById(id);
const fmt = (x, d = 2) => (x === null || x === undefined ? '—' : Number(x).toFixed(d));
const svgNs = 'http://www.w3.org/2000/svg';
function el(tag, attrs, text) {
  const e = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function draw(s) {
  const online = s.agents.filter((a) => a.state === 'online').length;
  $('online').textContent = online;
  $('offline').textContent = s.agents.length - online;
  for (const t of ['full', 'partial', 'none', 'safe']) $('tier-' + t).textContent = s.tiers[t];
  $('rate').textContent = fmt(s.messagesPerSecond, 0);
  $('dropped').textContent = s.messagesDropped;
  $('misses').textContent = s.deadlineMisses;
  const body = document.querySelector('#agents tbody');
  body.replaceChildren(...s.agents.map((a) => {
    const tr = document.createElement('tr');
    tr.dataset.agent = a.agent;
    tr.dataset.state = a.state;
    const st = a.status;
    const state = a.state === 'online' ? 'online' : 'offline' + (a.offlineReason === 'silent' ? ' (silent)' : '');
    const cells = [
      [a.agent, 'text'], [state, 'state'], [st ? st.bundle + ' ' + st.bundleVersion : '—', 'text'],
      [a.tier ?? '—', 'tier-' + (a.tier ?? '')], [st ? st.tick : '—'],
      [st ? fmt(st.tickP50Ms) + ' / ' + fmt(st.tickP99Ms) : '—'], [st ? fmt(st.inferenceP50Ms, 3) : '—'],
      [fmt(a.messagesPerSecond, 1)], [st ? st.messagesDropped : '—'], [st ? st.deadlineMisses : '—'], [st ? st.livePeers : '—'],
    ];
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }));
  // who heard whom: the agents on a circle, an arrow from each peer heard
  const graph = $('graph');
  const n = s.agents.length;
  const at = new Map(s.agents.map((a, i) => [a.agent, [Math.cos((2 * Math.PI * i) / n - Math.PI / 2), Math.sin((2 * Math.PI * i) / n - Math.PI / 2)]]));
  const parts = [];
  for (const [from, to] of s.edges) {
    const a = at.get(from), b = at.get(to);
    if (a && b) parts.push(el('line', { x1: a[0], y1: a[1], x2: b[0], y2: b[1], stroke: '#8fa3c4', 'stroke-width': 0.01 }));
  }
  for (const a of s.agents) {
    const [x, y] = at.get(a.agent);
    const g = el('g', { 'data-agent': a.agent });
    g.append(el('circle', { cx: x, cy: y, r: 0.07, fill: a.state === 'online' ? '#1e8449' : '#c0392b' }));
    if (n <= 40) g.append(el('text', { x, y: y - 0.1, 'font-size': 0.09, 'text-anchor': 'middle' }, a.agent));
    parts.push(g);
  }
  graph.replaceChildren(...parts);
  // a simulated world's map: agents, then landmarks
  const map = $('map');
  if (s.world && s.world.positions.length) {
    $('map-box').style.display = '';
    const pos = s.world.positions;
    const k = s.world.agents.length;
    const state = new Map(s.agents.map((a) => [a.agent, a.state]));
    const dots = [];
    for (let i = 0; i * 2 < pos.length; i++) {
      const x = pos[2 * i], y = -pos[2 * i + 1];
      if (i < k && s.world.active?.length && !s.world.active[i]) continue; // not in the episode now: a car not on the road
      if (i < k) dots.push(el('circle', { cx: x, cy: y, r: 0.05, fill: state.get(s.world.agents[i]) === 'offline' ? '#c0392b' : '#2e86c1', 'data-agent': s.world.agents[i] }));
      else dots.push(el('rect', { x: x - 0.03, y: y - 0.03, width: 0.06, height: 0.06, fill: '#7f8c8d' }));
    }
    map.replaceChildren(...dots);
    // the faults that struck this tick, by kind (a lossy link strikes many times a tick)
    const kinds = {};
    for (const f of s.world.faults) { const k = f.split(' ')[0]; kinds[k] = (kinds[k] || 0) + 1; }
    const struck = Object.entries(kinds).map(([k, n]) => k + (n > 1 ? ' ×' + n : '')).join(', ');
    $('map-title').textContent = 'the world: episode ' + s.world.episode + ', tick ' + s.world.tick + (struck ? ' · faults this tick: ' + struck : '');
  }
  const refused = Object.entries(s.refused).map(([k, v]) => k + ' ' + v).join(', ');
  $('status').textContent = 'last update ' + new Date(s.atMs).toLocaleTimeString() + (refused ? ' · unreadable messages: ' + refused : '');
}
const source = new EventSource('events');
source.onmessage = (e) => draw(JSON.parse(e.data));
source.onerror = () => { $('status').textContent = 'lost the dashboard server; retrying…'; };
</script>
</body></html>
`;
}
