// The report's episode replay, run as the page runs it — against a small stand-in for the DOM
// and canvas (this machine has no browser): it draws every agent and landmark of a tick, in its
// tier's colour, the links of who heard whom, and the faults of the tick; play advances it.

import t from 'tap';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { parseFaultPlan, robustnessReport, renderHtmlReport, simulate } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from '../helpers/paths.js';

interface Drawn { arcs: { x: number; y: number; fill: string }[]; rects: number; lines: number; texts: string[] }

function fakePage(html: string) {
  const json = /<script type="application\/json" id="trace-data">([\s\S]*?)<\/script>/.exec(html)![1];
  const drawn: Drawn = { arcs: [], rects: 0, lines: 0, texts: [] };
  let fill = '';
  const ctx = {
    clearRect: () => { drawn.arcs = []; drawn.rects = 0; drawn.lines = 0; drawn.texts = []; },
    strokeRect: () => {}, fillRect: () => { drawn.rects++; }, beginPath: () => {}, moveTo: () => {}, lineTo: () => { drawn.lines++; }, stroke: () => {},
    arc: (x: number, y: number) => { drawn.arcs.push({ x, y, fill }); }, fill: () => {}, fillText: (s: string) => { drawn.texts.push(s); },
    set fillStyle(v: string) { fill = v; }, get fillStyle() { return fill; }, strokeStyle: '', font: '',
  };
  const options: { value: string }[] = [];
  const elements: Record<string, any> = {
    'trace-data': { textContent: json },
    replay: { getContext: () => ctx },
    ep: { value: '', add: (o: { value: string }) => { options.push(o); if (!elements.ep.value) elements.ep.value = o.value; }, onchange: null },
    tick: { value: '0', max: '0', oninput: null },
    tlabel: { textContent: '' },
    events: { textContent: '' },
    play: { onclick: null },
  };
  const timers: (() => void)[] = [];
  const context = {
    document: { getElementById: (id: string) => elements[id] },
    Option: class { constructor(public text: string, public value: string) {} },
    setInterval: (fn: () => void) => { timers.push(fn); return timers.length; },
    clearInterval: () => { timers.length = 0; },
    JSON, Number, String, Set, Math,
  };
  const script = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)][0][1];
  runInNewContext(script, context);
  return { drawn, elements, options, timers, data: JSON.parse(json) };
}

t.test('the replay draws the faulted episode tick by tick', async (t) => {
  const plan = parseFaultPlan('faults: [{kind: crash, agents: [agent_2], window: {ticks: [3, 25]}}, {kind: drop, p: 0.5}]');
  const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
  const nominal = await simulate({ bundle, episodes: 2, seed: 1, trace: true });
  const faulted = await simulate({ bundle, episodes: 2, seed: 1, faults: plan, trace: true });
  const html = renderHtmlReport(robustnessReport({ bundle, world: 'simple_spread_v3', plan, random: { mean: -80, episodes: [-80, -80] }, nominal, faulted }));
  const page = fakePage(html);
  t.same(page.options.map((o) => o.value), ['0', '1'], 'an entry per episode');
  t.equal(page.elements.tick.max, '24', 'a slider over the 25 ticks');
  t.equal(page.drawn.arcs.length, 3, 'three agents drawn');
  t.equal(page.drawn.rects, 3, 'three landmarks drawn');
  t.same(page.drawn.texts.filter((x) => x.startsWith('agent_')), ['agent_0', 'agent_1', 'agent_2']);
  t.match(page.drawn.texts, [/^(0\.1|0\.2|0\.5|1|2|5) world units$/], 'a scale bar in world units');
  const xs = page.drawn.arcs.map((a) => a.x);
  t.ok(xs.every((x) => x >= 0 && x <= 520), 'the agents are inside the view');
  t.match(page.elements.tlabel.textContent, /^tick 0 · reward -?\d/);
  page.elements.play.onclick();
  for (let k = 0; k < 5; k++) page.timers[0]();
  t.equal(page.elements.tick.value, '5', 'play advances a tick per frame');
  const silent = page.data.colors.silent;
  t.equal(page.drawn.arcs[2].fill, silent, 'the crashed agent is drawn as silent');
  t.ok(page.drawn.arcs.slice(0, 2).every((a) => a.fill !== silent), 'the others still decide');
  page.elements.tick.value = '3';
  page.elements.tick.oninput();
  t.match(page.elements.events.textContent, /faults now: .*crash → agent_2/, 'the crash is shown when it strikes');
  page.elements.tick.value = '10';
  page.elements.tick.oninput();
  t.match(page.elements.events.textContent, /agent_2 down \(crashed\)/, 'and while the agent stays down');
  page.elements.tick.value = '0';
  page.elements.tick.oninput();
  t.ok(page.drawn.lines > 0, 'who heard whom is drawn');
});
