// The live dashboard in real headless Chromium, watching a real simulated fleet in real time
// on a real broker, with a fault plan: what a person would see — the agents appear with their
// bundle, the tier counts move to "partial" when message loss starts, the crashed agent turns
// offline within its peer timeout (+ 1 s), and the world's map and who-heard-whom are drawn.
// A screenshot is kept as a test artifact.

import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startBroker } from '@fleetmind/broker';
import { defaultDashboardOptions, startDashboard } from '@fleetmind/dashboard';
import { parseFaultPlan, simulate } from '@fleetmind/sim-harness/fleet';
import { decodeWorldStepRecord, encodeWorldStepRecord } from '@fleetmind/wire';
import { REPO_ROOT } from '../helpers/paths.js';
import { launchChromium } from '../helpers/browser.js';
import type { Page } from 'playwright-core';

const PEER_TIMEOUT_MS = 1_000;

t.test('the dashboard shows a faulted simulated fleet as it happens', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleet = 'dash-test';
  const dashboard = await startDashboard({ ...defaultDashboardOptions, broker: broker.url, fleet, port: 0, peerTimeoutMs: PEER_TIMEOUT_MS });
  t.teardown(() => dashboard.close());

  // when the crash struck, from the simulator's own ground truth
  const watcher = await mqtt.connectAsync(broker.url);
  t.teardown(() => watcher.endAsync(true));
  let crashAt: number | null = null;
  /** what the page's tier cards said when each episode began */
  const tiersAt = new Map<number, Promise<{ degraded: number; total: number }>>();
  let page: Page | null = null;
  watcher.on('message', (_topic, payload) => {
    const step = decodeWorldStepRecord(payload);
    if (crashAt === null && step.faults.includes('crash agent_1')) crashAt = Date.now();
    if (page && !tiersAt.has(step.episode)) tiersAt.set(step.episode, page.evaluate(() => {
      const n = (tier: string) => Number(document.getElementById(`tier-${tier}`)!.textContent);
      return { degraded: n('partial') + n('none'), total: n('full') + n('partial') + n('none') + n('safe') };
    }));
  });
  await watcher.subscribeAsync(`fm/${fleet}/world`);

  // 10 Hz, 25-tick episodes: clean for 2.5 s, then 60 % loss, then agent_1 crashes at 5 s
  const plan = parseFaultPlan(`
faults:
  - { kind: drop, p: 0.6, window: { episodes: [1, 4] } }
  - { kind: crash, agents: [agent_1], window: { episodes: [2, 4] } }
`);
  const run = simulate({ bundle: join(REPO_ROOT, 'models', 'zoo', 'spread-commnet'), episodes: 4, seed: 0, faults: plan, broker: broker.url, fleet, hz: 10, agent: { statusMs: 250 } });

  const opened = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const problems: string[] = [];
  opened.on('pageerror', (err) => problems.push(err.message));
  opened.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await opened.goto(dashboard.url);
  // read from the world's messages only once loaded: an evaluate during the navigation is destroyed with it
  page = opened;

  await page.waitForFunction(() => document.querySelectorAll('#agents tbody tr[data-state="online"]').length === 3, null, { timeout: 20_000 });
  t.same(await page.$$eval('#agents tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.agent)), ['agent_0', 'agent_1', 'agent_2'], 'a row per agent');
  await page.waitForFunction(() => Number(document.getElementById('tier-full')!.textContent) > 0, null, { timeout: 10_000 });
  t.match(await page.textContent('#agents tbody tr[data-agent="agent_0"]'), /spread-commnet 1\.0\.0/, 'the running bundle and its version');
  // before any loss every agent hears both others: who heard whom is drawn (later, under 60 % loss,
  // a last round may well have heard nobody)
  await page.waitForFunction(() => document.querySelectorAll('#graph line').length === 6, null, { timeout: 10_000 });
  t.pass('who heard whom: every agent heard both others');

  // statuses come every 250 ms here, so each reading lags that much into the next episode
  await page.waitForFunction(() => document.getElementById('map-title')!.textContent!.includes('episode 2'), null, { timeout: 20_000 });
  const [clean, lossy] = await Promise.all([tiersAt.get(1)!, tiersAt.get(2)!]);
  const before = clean.degraded / Math.max(1, clean.total);
  const during = (lossy.degraded - clean.degraded) / Math.max(1, lossy.total - clean.total);
  // with 60 % loss on 2 peers × 2 rounds, 1 − 0.4⁴ ≈ 97 % of ticks miss a message
  t.ok(during > 0.6 && during > before + 0.4, `ticks partial or none: ${(100 * before).toFixed(0)} % before the loss, ${(100 * during).toFixed(0)} % once 60 % of messages are lost`);

  await page.waitForFunction(() => document.querySelector('#agents tbody tr[data-agent="agent_1"]')?.getAttribute('data-state') === 'offline', null, { timeout: 20_000, polling: 20 });
  const shownAt = Date.now();
  t.ok(crashAt !== null, 'the crash struck');
  const delay = shownAt - crashAt!;
  t.ok(delay <= PEER_TIMEOUT_MS + 1_000, `the crashed agent shows offline ${delay} ms after the crash (≤ peer timeout + 1 s)`);
  t.match(await page.textContent('#agents tbody tr[data-agent="agent_1"] td.state'), /^offline/);
  t.equal(await page.locator('#agents tbody tr[data-state="online"]').count(), 2, 'the others stay online');

  t.ok(await page.locator('#map circle').count() >= 3, 'the world\'s map shows the agents');
  const artifacts = join(REPO_ROOT, '.tap', 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'dashboard.png') });
  t.same(problems, [], 'no page errors');

  const report = await run;
  t.equal(report.episodes, 4, 'the simulation ran to the end');
  t.same(report.crashed_agents, ['agent_1']);
});

t.test("the dashboard's map draws only the agents in the episode (a junction's cars on the road)", async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const broker = await startBroker({ port: 0, allowAnonymous: true });
  t.teardown(() => broker.close());
  const fleet = 'dash-junction';
  const dashboard = await startDashboard({ ...defaultDashboardOptions, broker: broker.url, fleet, port: 0, peerTimeoutMs: PEER_TIMEOUT_MS });
  t.teardown(() => dashboard.close());
  const page = await browser.newPage();
  await page.goto(dashboard.url);
  const world = await mqtt.connectAsync(broker.url);
  t.teardown(() => world.endAsync(true));
  const step = (tick: number, active: boolean[]) => world.publishAsync(`fm/${fleet}/world`, Buffer.from(encodeWorldStepRecord({
    episode: 1, tick, agents: ['car_0', 'car_1', 'car_2'], positions: Float32Array.from([0, 6, 3, 3, 3, 4, 3, 0, 3, 1, 3, 2]), rewards: [0, 0, 0], faults: [], active,
  })));
  await step(1, [false, true, true]);
  await page.waitForFunction(() => document.getElementById('map-title')!.textContent!.includes('tick 1'), null, { timeout: 10_000 });
  t.same(await page.$$eval('#map circle', (cs) => cs.map((c) => c.getAttribute('data-agent'))), ['car_1', 'car_2'], 'the car off the road is not drawn');
  t.equal(await page.$$eval('#map rect', (rs) => rs.length), 3, 'the road cells are');
  await step(2, []);
  await page.waitForFunction(() => document.getElementById('map-title')!.textContent!.includes('tick 2'), null, { timeout: 10_000 });
  t.equal(await page.$$eval('#map circle', (cs) => cs.length), 3, 'no active list (a world where every agent plays): every agent drawn');
});
