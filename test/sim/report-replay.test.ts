// The report's episode replay, in real headless Chromium: the page a user opens, from a real
// faulted run — every agent and landmark of a tick drawn inside the view with a scale bar, the
// crashed agent silent, the faults of the tick and the agents still down listed, and play advancing.

import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFaultPlan, robustnessReport, renderHtmlReport, simulate } from '@fleetmind/sim-harness/fleet';
import { REPO_ROOT } from '../helpers/paths.js';
import { launchChromium } from '../helpers/browser.js';

t.test('the replay draws the faulted episode tick by tick', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const plan = parseFaultPlan('faults: [{kind: crash, agents: [agent_2], window: {ticks: [3, 25]}}, {kind: drop, p: 0.5}]');
  const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
  const nominal = await simulate({ bundle, episodes: 2, seed: 1, trace: true });
  const faulted = await simulate({ bundle, episodes: 2, seed: 1, faults: plan, trace: true });
  const dir = mkdtempSync(join(tmpdir(), 'fm-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtmlReport(robustnessReport({ bundle, world: 'simple_spread_v3', plan, random: { mean: -80, episodes: [-80, -80] }, nominal, faulted })));

  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`fetched ${r.url()}`); });
  await page.goto(pathToFileURL(file).href);

  t.same(await page.$$eval('#ep option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['0', '1'], 'an entry per episode');
  t.equal(await page.getAttribute('#tick', 'max'), '24', 'a slider over the 25 ticks');
  t.match(await page.textContent('#tlabel'), /^tick 0 · reward -?\d/);

  // the canvas as drawn: how many pixels of each agent's tier colour, and of the landmarks' grey
  const colours = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById('trace-data')!.textContent!);
    const cv = document.getElementById('replay') as HTMLCanvasElement;
    const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const hex = (i: number) => `#${[px[i], px[i + 1], px[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    const counts: Record<string, number> = {};
    for (let i = 0; i < px.length; i += 4) counts[hex(i)] = (counts[hex(i)] ?? 0) + 1;
    return { counts, colors: data.colors as Record<string, string> };
  });
  const tierPixels = ['full', 'partial', 'none', 'safe'].reduce((n, tier) => n + (colours.counts[colours.colors[tier]] ?? 0), 0);
  t.ok(tierPixels > 3 * 100, `three agents drawn in their tiers' colours (${tierPixels} pixels)`);
  t.ok((colours.counts['#9e9e9e'] ?? 0) > 100, 'landmarks drawn');

  // at tick 10 of the faulted episode agent_2 has been down since tick 3
  await page.$eval('#tick', (el) => { (el as HTMLInputElement).value = '10'; (el as HTMLInputElement).dispatchEvent(new Event('input')); });
  t.match(await page.textContent('#events'), /agent_2 down \(crashed\)/, 'the agents still down are listed');
  await page.$eval('#tick', (el) => { (el as HTMLInputElement).value = '3'; (el as HTMLInputElement).dispatchEvent(new Event('input')); });
  t.match(await page.textContent('#events'), /faults now: .*crash → agent_2/, 'the crash is shown when it strikes');
  const silent = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById('trace-data')!.textContent!);
    const cv = document.getElementById('replay') as HTMLCanvasElement;
    const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const want = data.colors.silent.slice(1).match(/../g).map((h: string) => parseInt(h, 16));
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] === want[0] && px[i + 1] === want[1] && px[i + 2] === want[2]) n++;
    return n;
  });
  t.ok(silent > 100, 'the crashed agent is drawn as silent');

  await page.$eval('#tick', (el) => { (el as HTMLInputElement).value = '0'; (el as HTMLInputElement).dispatchEvent(new Event('input')); });
  await page.click('#play');
  await page.waitForFunction(() => Number((document.getElementById('tick') as HTMLInputElement).value) >= 5);
  t.pass('play advances the ticks');
  t.same(problems, [], 'no script errors, nothing fetched from the network');
});

t.test('the replay loads a world recording of `sim --record`', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const dir = mkdtempSync(join(tmpdir(), 'fm-report-rec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plan = parseFaultPlan('faults: [{kind: crash, agents: [agent_0], window: {episodes: [1, 2], ticks: [4, 25]}}]');
  const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
  const recorded = await simulate({ bundle, episodes: 2, seed: 2, faults: plan, record: join(dir, 'rec') });
  // a report without a trace of its own: the recording is all the replay has
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtmlReport(robustnessReport({ bundle, world: 'simple_spread_v3', plan: null, random: { mean: -80, episodes: [-80, -80] }, nominal: recorded, faulted: null })));
  const [world] = readdirSync(join(dir, 'rec')).filter((f) => f.startsWith('world-'));

  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(pathToFileURL(file).href);
  t.match(await page.textContent('#source'), /no trace in this report/);
  await page.setInputFiles('#load-recording', join(dir, 'rec', world));
  await page.waitForFunction(() => document.getElementById('source')!.textContent!.startsWith('from world-'));
  t.match(await page.textContent('#source'), /: 50 ticks/, 'every recorded tick');
  t.same(await page.$$eval('#ep option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['0', '1'], 'an entry per recorded episode');
  t.equal(await page.inputValue('#ep'), '1', 'the faulted episode first');
  await page.$eval('#tick', (el) => { (el as HTMLInputElement).value = '4'; (el as HTMLInputElement).dispatchEvent(new Event('input')); });
  t.match(await page.textContent('#events'), /crash → agent_0/, 'the crash from the ground truth');
  // the reward of the recorded tick, as the world gave it
  const label = await page.textContent('#tlabel');
  t.match(label, /^tick \d+ · reward -?\d+\.\d\d$/);
  const blue = await page.evaluate(() => {
    const cv = document.getElementById('replay') as HTMLCanvasElement;
    const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] === 0x15 && px[i + 1] === 0x65 && px[i + 2] === 0xc0) n++;
    return n;
  });
  t.ok(blue > 3 * 100, `the three recorded agents drawn (${blue} pixels)`);

  // an agent's recording is not a world recording: said, not crashed
  const [agent] = readdirSync(join(dir, 'rec')).filter((f) => f.startsWith('agent_1-'));
  await page.setInputFiles('#load-recording', join(dir, 'rec', agent));
  await page.waitForFunction(() => document.getElementById('source')!.textContent!.startsWith('agent_1-'));
  t.match(await page.textContent('#source'), /zstd-compressed: only the world recording/);
  t.same(problems, []);
});

t.test('the replay of a traffic junction draws its road and only the cars on it', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const bundle = join(REPO_ROOT, 'models', 'zoo', 'junction-easy-commnet');
  const dir = mkdtempSync(join(tmpdir(), 'fm-report-junction-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = await simulate({ bundle, episodes: 1, seed: 1, trace: true, record: join(dir, 'rec') });
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtmlReport(robustnessReport({ bundle, world: 'traffic_junction_v0', plan: null, random: { mean: -200, episodes: [-200] }, nominal: run, faulted: null })));
  const trace = run.trace!;
  t.same(trace.map((tick) => tick.active.filter(Boolean).length), trace.map((tick) => tick.tiers.filter((tier) => tier !== null).length), 'a car is in the trace as active exactly when it decided');
  const partlyOnRoad = trace.map((tick, i) => ({ i, on: tick.active.filter(Boolean).length })).filter(({ on }) => on > 0 && on < 5);
  t.ok(partlyOnRoad.length > 5, `ticks with some cars on the road and some not (${partlyOnRoad.length})`);

  const page = await browser.newPage();
  await page.goto(pathToFileURL(file).href);
  const counts = async () => page.evaluate(() => {
    const data = JSON.parse(document.getElementById('trace-data')!.textContent!);
    const cv = document.getElementById('replay') as HTMLCanvasElement;
    const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    const rgb = (hex: string) => hex.slice(1).match(/../g)!.map((h) => parseInt(h, 16)).join(',');
    const full = rgb(data.colors.full), silent = rgb(data.colors.silent), grey = rgb('#9e9e9e');
    const n = { full: 0, silent: 0, road: 0 };
    for (let i = 0; i < px.length; i += 4) {
      const c = `${px[i]},${px[i + 1]},${px[i + 2]}`;
      if (c === full) n.full++; else if (c === silent) n.silent++; else if (c === grey) n.road++;
    }
    return n;
  });
  for (const { i, on } of partlyOnRoad.slice(0, 5)) {
    await page.$eval('#tick', (el, v) => { (el as HTMLInputElement).value = String(v); (el as HTMLInputElement).dispatchEvent(new Event('input')); }, i);
    const n = await counts();
    t.ok(n.full > on * 100, `tick ${i}: the ${on} cars on the road drawn (${n.full} pixels)`);
    t.equal(n.silent, 0, `tick ${i}: no car drawn off the road`);
    t.ok(n.road > 10 * 50, `tick ${i}: the road's cells drawn (${n.road} pixels)`);
  }

  // the world recording of the same run says which cars were on the road (wire 1.8): loaded, the same cars are drawn
  const [world] = readdirSync(join(dir, 'rec')).filter((f) => f.startsWith('world-'));
  await page.setInputFiles('#load-recording', join(dir, 'rec', world));
  await page.waitForFunction(() => document.getElementById('source')!.textContent!.startsWith('from world-'));
  for (const { i, on } of partlyOnRoad.slice(0, 5)) {
    await page.$eval('#tick', (el, v) => { (el as HTMLInputElement).value = String(v); (el as HTMLInputElement).dispatchEvent(new Event('input')); }, i);
    const blue = await page.evaluate(() => {
      const cv = document.getElementById('replay') as HTMLCanvasElement;
      const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let b = 0;
      for (let k = 0; k < px.length; k += 4) if (px[k] === 0x15 && px[k + 1] === 0x65 && px[k + 2] === 0xc0) b++;
      return b;
    });
    t.ok(blue > on * 100 && blue < on * 250, `recorded tick ${i}: the ${on} cars on the road drawn, none off it (${blue} pixels)`);
  }
});
