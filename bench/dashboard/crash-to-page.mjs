// How long a crash takes to show on the dashboard with a large simulated fleet (the issue's
// goal: at most the peer timeout + 1 s at 100 agents, 10 Hz). A real broker, the dashboard, a
// real-time simulation of N agents of the size-agnostic bundle with one agent crashing, and the
// page in headless Chromium; the crash time is the simulator's own ground truth. One JSON line.
// Needs the dev install (playwright-core) and Debian's chromium.
//   node bench/dashboard/crash-to-page.mjs [agents=100] [hz=10]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { startBroker } from '@fleetmind/broker';
import { defaultDashboardOptions, startDashboard } from '@fleetmind/dashboard';
import { resizeBundle } from '@fleetmind/models';
import { parseFaultPlan, simulate } from '@fleetmind/sim-harness/fleet';
import { decodeWorldStepRecord } from '@fleetmind/wire';

const agents = Number(process.argv[2] ?? 100);
const hz = Number(process.argv[3] ?? 10);
const peerTimeoutMs = 1_000;
const dir = mkdtempSync(join(tmpdir(), 'fm-dash-'));
const bundle = join(dir, 'bundle');
resizeBundle(fileURLToPath(new URL('../bundles/spread-nearest3-commnet', import.meta.url)), bundle, agents);
const broker = await startBroker({ port: 0, allowAnonymous: true, maxClients: 10_000 });
const fleet = 'dash-bench';
const dashboard = await startDashboard({ ...defaultDashboardOptions, broker: broker.url, fleet, port: 0, peerTimeoutMs });
const watcher = await mqtt.connectAsync(broker.url);
let crashAt = null;
watcher.on('message', (_t, payload) => { if (crashAt === null && decodeWorldStepRecord(payload).faults.includes('crash agent_7')) crashAt = Date.now(); });
await watcher.subscribeAsync(`fm/${fleet}/world`);
const plan = parseFaultPlan('faults: [{ kind: crash, agents: [agent_7], window: { episodes: [1, 2] } }]');
const run = simulate({ bundle, episodes: 2, seed: 0, faults: plan, broker: broker.url, fleet, hz, onlineTimeoutMs: 60_000 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(dashboard.url);
await page.waitForFunction((n) => document.querySelectorAll('#agents tbody tr[data-state="online"]').length === n, agents, { timeout: 120_000 });
await page.waitForFunction(() => document.querySelector('#agents tbody tr[data-agent="agent_7"]')?.getAttribute('data-state') === 'offline', null, { timeout: 60_000, polling: 20 });
const shownAt = Date.now();
// how long the page takes to redraw 100 rows, the graph and the map
const drawMs = await page.evaluate(() => new Promise((resolve) => {
  const source = new EventSource('events');
  source.onmessage = (e) => { const t0 = performance.now(); window.draw?.(JSON.parse(e.data)); source.close(); resolve(performance.now() - t0); };
}));
const report = await run;
console.log(JSON.stringify({
  bench: 'dashboard-crash', agents, hz, peer_timeout_ms: peerTimeoutMs, crash_to_page_ms: shownAt - crashAt,
  goal_ms: peerTimeoutMs + 1_000, late_actions: report.late_actions, asked_actions: report.asked_actions, draw_ms: Number(drawMs.toFixed(2)),
}));
await browser.close();
await watcher.endAsync(true);
await dashboard.close();
await broker.close();
rmSync(dir, { recursive: true, force: true });
