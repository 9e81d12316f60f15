// report.html: one self-contained page (inline SVG plots, an inline script for the replay, no
// network) that shows what a simulation campaign measured and lets a user watch an episode.

import type { SimReport, TickTrace } from '../fleet/simulate.js';
import type { RobustnessReport } from './robustness.js';

/** recorded: an agent drawn from a world recording, which knows positions but not tiers */
const TIER_COLORS = { full: '#2e7d32', partial: '#f9a825', none: '#ef6c00', safe: '#c62828', silent: '#616161', recorded: '#1565c0' } as const;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

interface Series { name: string; color: string; values: number[] }

/** A line chart of one value per x (episode), as inline SVG. */
function lineChart(title: string, series: Series[], xLabel: string, yLabel: string): string {
  const W = 640, H = 260, L = 56, R = 12, T = 28, B = 40;
  const all = series.flatMap((s) => s.values);
  if (all.length === 0) return '';
  let lo = Math.min(...all), hi = Math.max(...all);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const n = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) => L + (n <= 1 ? 0 : (i / (n - 1)) * (W - L - R));
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`).join('');
  const legend = series.map((s, k) => `<rect x="${L + 8 + k * 150}" y="8" width="12" height="3" fill="${s.color}"/><text x="${L + 24 + k * 150}" y="13" font-size="11">${esc(s.name)}</text>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">
${ticks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${L - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${fmt(v, 1)}</text>`).join('')}
<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#999"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#999"/>
<text x="${(L + W - R) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>
<text x="14" y="${(T + H - B) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(yLabel)}</text>
${lines}${legend}</svg></figure>`;
}

/** Fallback tier use per episode as stacked bars (share of agent-ticks). */
function tierChart(trace: TickTrace[], title: string): string {
  const episodes = [...new Set(trace.map((t) => t.episode))];
  if (episodes.length === 0) return '';
  const W = 640, H = 220, L = 56, R = 12, T = 28, B = 40;
  const bw = (W - L - R) / episodes.length;
  const keys = ['full', 'partial', 'none', 'safe', 'silent'] as const;
  const bars = episodes.map((e, k) => {
    const counts: Record<string, number> = { full: 0, partial: 0, none: 0, safe: 0, silent: 0 };
    for (const t of trace) if (t.episode === e) for (const tier of t.tiers) counts[tier ?? 'silent']++;
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    let acc = 0;
    return keys.map((key) => {
      const h = (counts[key] / total) * (H - T - B);
      const rect = `<rect x="${(L + k * bw + 1).toFixed(1)}" y="${(H - B - acc - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${TIER_COLORS[key]}"><title>episode ${e}: ${key} ${counts[key]}</title></rect>`;
      acc += h;
      return rect;
    }).join('');
  }).join('');
  const legend = keys.map((key, k) => `<rect x="${L + 8 + k * 90}" y="6" width="10" height="10" fill="${TIER_COLORS[key]}"/><text x="${L + 22 + k * 90}" y="15" font-size="11">${key}</text>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${bars}${legend}
<text x="${(L + W - R) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">episode</text>
<text x="${L - 6}" y="${T + 4}" font-size="10" text-anchor="end">100 %</text><text x="${L - 6}" y="${H - B}" font-size="10" text-anchor="end">0 %</text></svg></figure>`;
}

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The episode replay: the trace as JSON, drawn on a canvas by a small inline script. */
function replay(trace: TickTrace[], agents: string[]): string {
  const data = JSON.stringify({ agents, colors: TIER_COLORS, trace }).replace(/</g, '\\u003c');
  return `<div class="replay"><canvas id="replay" width="520" height="520"></canvas>
<div><label>episode <select id="ep"></select></label> <button id="play">play</button>
<label class="legend">or load a recording (<code>fleetmind sim --record</code>: world-*.mcap) <input id="load-recording" type="file" accept=".mcap"></label>
<div id="source" class="legend">${trace.length ? 'this run’s trace' : 'no trace in this report: load a recording'}</div>
<input id="tick" type="range" min="0" value="0" style="width:300px"> <span id="tlabel"></span>
<div id="events" class="events"></div>
<p class="legend">agents coloured by fallback tier: <b style="color:${TIER_COLORS.full}">full</b> · <b style="color:${TIER_COLORS.partial}">partial</b> · <b style="color:${TIER_COLORS.none}">none</b> · <b style="color:${TIER_COLORS.safe}">safe</b> · <b style="color:${TIER_COLORS.silent}">silent (no action: replaced)</b> · <b style="color:${TIER_COLORS.recorded}">from a world recording (tiers not in it)</b>; grey squares: landmarks (a junction: its road cells); agents not in the episode now (cars not on the road) are not drawn; thin lines: who heard whom in the last round; the view fits the episode, with a scale bar in world units</p></div></div>
<script type="application/json" id="trace-data">${data}</script>
<script>
(() => {
  const D = JSON.parse(document.getElementById('trace-data').textContent);
  const cv = document.getElementById('replay'), g = cv.getContext('2d');
  const ep = document.getElementById('ep'), slider = document.getElementById('tick'), label = document.getElementById('tlabel'), events = document.getElementById('events');
  let ticks = [], timer = null, sx = (x) => x, sy = (y) => y, unit = 1, bar = 1;
  function load() {
    ep.replaceChildren();
    const episodes = [...new Set(D.trace.map((t) => t.episode))];
    for (const e of episodes) ep.add(new Option(String(e), String(e)));
    const firstFaulted = D.trace.find((t) => t.faults.length > 0);
    if (firstFaulted) ep.value = String(firstFaulted.episode);
    if (D.trace.length) select();
  }
  // the view fits the episode: every position it visits, with a margin, one scale for x and y
  function fit() {
    const xs = [], ys = [];
    for (const t of ticks) for (const [x, y] of [...t.agents.filter((_, i) => shown(t, i)), ...t.landmarks]) { xs.push(x); ys.push(y); }
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const span = Math.max(x1 - x0, y1 - y0, 1e-6) * 1.15, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    unit = 480 / span;
    sx = (x) => 260 + (x - cx) * unit; sy = (y) => 260 - (y - cy) * unit;
    bar = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50].find((b) => b * unit >= 60) ?? 100;
  }
  // an agent not in the episode now (a car not on the road yet, or gone) is not drawn; a world recording does not say
  function shown(t, i) { return !t.active || t.active[i]; }
  function select() { ticks = D.trace.filter((t) => String(t.episode) === ep.value); fit(); slider.max = String(ticks.length - 1); slider.value = '0'; draw(); }
  function draw() {
    const t = ticks[Number(slider.value)]; if (!t) return;
    g.clearRect(0, 0, 520, 520); g.strokeStyle = '#ddd'; g.strokeRect(0.5, 0.5, 519, 519);
    g.strokeStyle = '#424242'; g.beginPath(); g.moveTo(16, 504); g.lineTo(16 + bar * unit, 504); g.stroke();
    g.fillStyle = '#424242'; g.font = '11px sans-serif'; g.fillText(bar + ' world units', 16, 496);
    for (const [x, y] of t.landmarks) { g.fillStyle = '#9e9e9e'; g.fillRect(sx(x) - 5, sy(y) - 5, 10, 10); }
    if (t.heard) t.heard.forEach((peers, i) => peers.forEach((p) => { const j = D.agents.indexOf(p); if (j < 0) return; g.strokeStyle = 'rgba(33,33,33,0.25)'; g.beginPath(); g.moveTo(sx(t.agents[i][0]), sy(t.agents[i][1])); g.lineTo(sx(t.agents[j][0]), sy(t.agents[j][1])); g.stroke(); }));
    t.agents.forEach(([x, y], i) => { if (!shown(t, i)) return; g.fillStyle = D.colors[t.tiers[i] ?? 'silent']; g.beginPath(); g.arc(sx(x), sy(y), 8, 0, 7); g.fill(); g.fillStyle = '#000'; g.font = '11px sans-serif'; g.fillText(D.agents[i], sx(x) + 10, sy(y) - 8); });
    label.textContent = 'tick ' + t.tick + ' · reward ' + t.reward.toFixed(2);
    // what holds now, not only what struck at this tick: agents still down since their crash
    const down = new Set();
    for (const u of ticks.slice(0, Number(slider.value) + 1)) for (const f of u.faults) {
      if (f.kind !== 'crash') continue;
      if (f.target.endsWith(' restarted')) down.delete(f.target.replace(' restarted', '')); else down.add(f.target);
    }
    const now = t.faults.map((f) => f.kind + ' → ' + f.target);
    for (const a of down) if (!t.faults.some((f) => f.kind === 'crash' && f.target === a)) now.push(a + ' down (crashed)');
    events.textContent = now.length ? 'faults now: ' + now.join(', ') : '';
  }
  ep.onchange = select; slider.oninput = draw;
  // a world recording (MCAP, uncompressed chunks) of fleetmind.proto's WorldStepRecord, read here
  function mcapMessages(buf) {
    const u8 = new Uint8Array(buf), v = new DataView(buf), text = new TextDecoder();
    if (![0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a].every((b, i) => u8[i] === b)) throw new Error('not an MCAP file');
    const topics = new Map(), out = [];
    const str = (o) => { const n = v.getUint32(o, true); return [text.decode(u8.subarray(o + 4, o + 4 + n)), o + 4 + n]; };
    function records(o, end) {
      while (o + 9 <= end) {
        const op = u8[o], len = Number(v.getBigUint64(o + 1, true)), b = o + 9;
        if (b + len > end) break; // a file cut short by a crash: what is whole is read
        if (op === 0x04) topics.set(v.getUint16(b, true), str(b + 4)[0]);
        else if (op === 0x05) out.push({ topic: topics.get(v.getUint16(b, true)), data: u8.subarray(b + 22, b + len) });
        else if (op === 0x06) {
          const [compression, p] = str(b + 28);
          if (compression !== '') throw new Error('its chunks are ' + compression + '-compressed: only the world recording (uncompressed) loads here');
          records(p + 8, p + 8 + Number(v.getBigUint64(p, true)));
        }
        o = b + len;
      }
    }
    records(8, u8.length);
    return out;
  }
  function worldStep(d) {
    const r = { episode: 0, tick: 0, agents: [], positions: [], rewards: [], faults: [], active: [] }, dv = new DataView(d.buffer, d.byteOffset, d.byteLength), text = new TextDecoder();
    let o = 0;
    const varint = () => { let x = 0, s = 0, b; do { b = d[o++]; x += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return x; };
    while (o < d.length) {
      const key = varint(), field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) { const x = varint(); if (field === 1) r.episode = x; else if (field === 2) r.tick = x; else if (field === 7) r.active.push(x !== 0); }
      else if (wire === 2) {
        const size = varint(), end = o + size;
        if (field === 3) r.agents.push(text.decode(d.subarray(o, end)));
        else if (field === 6) r.faults.push(text.decode(d.subarray(o, end)));
        else if (field === 4) for (let p = o; p < end; p += 4) r.positions.push(dv.getFloat32(p, true));
        else if (field === 5) for (let p = o; p < end; p += 8) r.rewards.push(dv.getFloat64(p, true));
        else if (field === 7) while (o < end) r.active.push(varint() !== 0);
        o = end;
      } else if (wire === 5) o += 4; else if (wire === 1) o += 8; else throw new Error('a WorldStepRecord that does not decode');
    }
    return r;
  }
  document.getElementById('load-recording').onchange = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      const steps = mcapMessages(await file.arrayBuffer()).filter((m) => m.topic === '/fleetmind/world').map((m) => worldStep(m.data));
      if (!steps.length) throw new Error('no world steps in it (an agent’s recording? load world-*.mcap)');
      D.agents = steps[0].agents;
      D.trace = steps.map((s) => {
        const k = s.agents.length, xy = [];
        for (let i = 0; i + 1 < s.positions.length; i += 2) xy.push([s.positions[i], s.positions[i + 1]]);
        return { episode: s.episode, tick: s.tick, agents: xy.slice(0, k), landmarks: xy.slice(k), tiers: s.agents.map(() => 'recorded'), active: s.active.length ? s.active : null, heard: null,
          reward: s.rewards.reduce((a, b) => a + b, 0), faults: s.faults.map((f) => { const i = f.indexOf(' '); return { kind: f.slice(0, i), target: f.slice(i + 1) }; }) };
      });
      document.getElementById('source').textContent = 'from ' + file.name + ': ' + steps.length + ' ticks (positions, rewards and faults; tiers are in the agents’ recordings)';
      load();
    } catch (err) {
      document.getElementById('source').textContent = file.name + ': ' + err.message;
    }
  };
  document.getElementById('play').onclick = () => {
    if (timer) { clearInterval(timer); timer = null; return; }
    timer = setInterval(() => { const v = Number(slider.value) + 1; if (v >= ticks.length) { clearInterval(timer); timer = null; return; } slider.value = String(v); draw(); }, 150);
  };
  load();
})();
</script>`;
}

export function renderHtmlReport(r: RobustnessReport): string {
  const f = r.faulted;
  const main = f ?? r.nominal;
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
  const series: Series[] = [{ name: 'nominal', color: '#1565c0', values: r.nominal.episode_team_returns }];
  if (f) series.push({ name: 'faulted', color: '#c62828', values: f.episode_team_returns });
  series.push({ name: 'random', color: '#9e9e9e', values: r.nominal.episode_team_returns.map(() => r.random_team_return_mean) });
  const tierRows = (['full', 'partial', 'none', 'safe'] as const).map((k) => [k, r.nominal.tiers[k], f ? f.tiers[k] : '—']);
  const applied = f ? Object.entries(f.faults_applied) : [];
  const events = (f?.trace ?? []).flatMap((t) => t.faults).slice(0, 300);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fleetmind robustness report — ${esc(r.bundle)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#212121;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #eee}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left}th{background:#fafafa}
figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}.na{color:#757575}
.replay{display:flex;gap:16px;flex-wrap:wrap}.events{min-height:2em;color:#c62828}.legend{color:#555;font-size:12px}
</style></head><body>
<h1>Robustness report</h1>
<p>Bundle <code>${esc(r.bundle)}</code> on <code>${esc(r.world)}</code>, ${main.agents.length} agents (${esc(main.mode)} over the ${esc(main.broker)} broker), ${main.episodes} episodes from seed ${main.seed}.
${r.plan ? `Fault plan: ${esc(r.plan.name ?? '(unnamed)')} — ${r.plan.faults.map((x) => x.kind).join(', ')}.` : 'No faults.'}</p>
<h2>Success criteria</h2>
${`<table><thead><tr><th>criterion</th><th>target</th><th>measured</th><th></th></tr></thead><tbody>${r.checklist.map((c) => `<tr><td>${esc(c.criterion)}</td><td>${esc(c.target)}</td><td>${esc(c.measured)}</td><td class="${c.passed === null ? 'na' : c.passed ? 'pass' : 'fail'}">${c.passed === null ? '—' : c.passed ? '✓ met' : '✗ not met'}</td></tr>`).join('')}</tbody></table>`}
<h2>Returns</h2>
${table(['', 'nominal', 'faulted', 'random'], [
    ['team return (mean)', fmt(r.nominal.team_return_mean), f ? fmt(f.team_return_mean) : '—', fmt(r.random_team_return_mean)],
    ['agent return (mean)', fmt(r.nominal.agent_return_mean), f ? fmt(f.agent_return_mean) : '—', ''],
    ['retained performance', '100 %', pct(r.retained), '0 %'],
    ...Object.keys(r.nominal.outcomes).map((k) => [k, fmt(r.nominal.outcomes[k]), f ? fmt(f.outcomes[k]) : '—', '']),
  ])}
${lineChart('Team return per episode', series, 'episode', 'team return')}
<h2>Latency and communication</h2>
${table(['', 'nominal', 'faulted'], [
    ['observation → action p50 (ms)', r.nominal.tick_ms.p50, f ? f.tick_ms.p50 : '—'],
    ['observation → action p99 (ms)', r.nominal.tick_ms.p99, f ? f.tick_ms.p99 : '—'],
    ['actions missing (replaced)', r.nominal.missing_actions, f ? f.missing_actions : '—'],
    ['messages sent', r.nominal.messages.sent, f ? f.messages.sent : '—'],
    ['  of which empty (abstentions, chosen silences)', r.nominal.messages.empty, f ? f.messages.empty : '—'],
    ['messages delivered', r.nominal.messages.delivered ?? '—', f ? f.messages.delivered ?? '—' : '—'],
    ['messages dropped by the network', r.nominal.messages.dropped, f ? f.messages.dropped : '—'],
    ['bytes per agent per tick', r.nominal.messages.bytes_per_agent_tick, f ? f.messages.bytes_per_agent_tick : '—'],
    ...peerCheckRows(r.nominal, f),
  ])}
<h2>Fallback tiers</h2>
${table(['tier (agent-ticks)', 'nominal', 'faulted'], tierRows)}
${f?.trace ? tierChart(f.trace, 'Fallback tier use per episode (faulted run)') : r.nominal.trace ? tierChart(r.nominal.trace, 'Fallback tier use per episode') : ''}
<h2>Faults as applied</h2>
${applied.length ? table(['kind', 'times it struck'], applied.map(([k, v]) => [k, v ?? 0])) : '<p>None.</p>'}
${events.length ? `<details><summary>first ${events.length} events</summary>${table(['episode', 'tick', 'kind', 'target'], events.map((e) => [e.episode, e.tick, e.kind, e.target]))}</details>` : ''}
<h2>Episode replay</h2>
${replay((f ?? r.nominal).trace ?? [], main.agents)}
<p class="legend">Written by fleetmind sim. Retained performance = (R<sub>faulted</sub> − R<sub>random</sub>) / (R<sub>nominal</sub> − R<sub>random</sub>).</p>
</body></html>
`;
}

/** Peer checks (agents run with peerChecks: quarantine): messages checked, inconsistent ones left out, quarantines. None when off. */
function peerCheckRows(nominal: SimReport, faulted: SimReport | null): (string | number)[][] {
  const of = (run: SimReport | null) => run?.agent_counters?.peerChecks;
  const n = of(nominal);
  const f = of(faulted);
  if (!n?.checked && !f?.checked) return [];
  const cell = (c: typeof n, key: 'checked' | 'inconsistent' | 'quarantined') => (c ? c[key] : '—');
  return [
    ['peer messages checked', cell(n, 'checked'), cell(f, 'checked')],
    ['… inconsistent (left out)', cell(n, 'inconsistent'), cell(f, 'inconsistent')],
    ['peers quarantined', cell(n, 'quarantined'), cell(f, 'quarantined')],
  ];
}
