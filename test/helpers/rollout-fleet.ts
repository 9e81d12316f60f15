// A team of three runtime agents with bundle stores, fed the simple_spread world through
// in-process adapters, and what the rollout tests roll out to them: copies of the zoo's CommNet
// bundle under other versions.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { signBundle } from '@fleetmind/models';
import { createAgent, InProcessAdapter, RolloutOperator, type ActionOut, type AgentRolloutReport, type AgentSettingsInput, type FleetAgent } from '@fleetmind/runtime';
import { makeWorld } from '@fleetmind/worlds';
import { COMMNET_BUNDLE } from './agents.js';
import { until } from './waiting.js';

export type Teardown = { teardown: (fn: () => unknown) => void };

export function tempDir(t: Teardown, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A copy of the CommNet bundle under another version: the same graphs and layout, another id.
 * `edit` changes its manifest further (a bad bundle: bounds no observation fits).
 */
export function newVersion(t: Teardown, version: string, key?: string, edit?: (manifest: Record<string, any>) => void): string {
  const dir = join(tempDir(t, 'fm-v-'), 'bundle');
  cpSync(COMMNET_BUNDLE, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, any>;
  manifest.version = version;
  edit?.(manifest);
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (key) signBundle(dir, key);
  return dir;
}

export interface RolloutFleet {
  agents: FleetAgent[];
  stores: string[];
  /** one tick for every agent; resolves with their actions */
  step(): Promise<ActionOut[]>;
  reports(): Promise<AgentRolloutReport[]>;
  /** stops agent i, runs `whileDown`, and starts it again on the same store */
  restart(i: number, whileDown?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export async function startRolloutFleet(t: Teardown, url: string, fleet: string, extra: { trustedKeyPem?: string; bundle?: string; settings?: AgentSettingsInput } = {}): Promise<RolloutFleet> {
  const world = makeWorld('simple_spread_v3', { numEnvs: 1, autoReset: true });
  let observations = world.reset(3).observations;
  const ids = world.possibleAgents;
  const stores = ids.map(() => tempDir(t, 'fm-store-'));
  const listeners = new Map<number, (a: ActionOut) => void>();
  const adapters = ids.map((_, i) => new InProcessAdapter((a) => listeners.get(i)?.(a)));
  // A round may wait 2 s for a peer, so a tick's budget covers both rounds: with the default 250 ms
  // a loaded CI machine's stall (one in the process that hosts all three agents, as the canary
  // stages its bundle) turned a whole tick into safe actions for every agent (tick 15, CI)
  const make = (i: number) => createAgent({
    bundle: extra.bundle ?? COMMNET_BUNDLE, agentId: ids[i], broker: url, fleet, adapter: adapters[i], bundleStore: stores[i], trustedKeyPem: extra.trustedKeyPem,
    logger: pino({ level: 'silent' }), heartbeatMs: 50, peerTimeoutMs: 2_000, roundDeadlineMs: 2_000, tickBudgetMs: 5_000, ...extra.settings,
  });
  const agents: FleetAgent[] = [];
  for (let i = 0; i < ids.length; i++) agents[i] = await make(i);
  await until(() => agents.every((a) => a.livePeers().length === ids.length - 1), 'every agent hears its peers');
  let tick = 0;
  const operator = await RolloutOperator.connect({ brokerUrl: url, fleet });
  t.teardown(() => operator.close());
  return {
    agents, stores,
    async step() {
      tick++;
      const got = ids.map(() => null as ActionOut | null);
      const done = new Promise<void>((resolve) => ids.forEach((_, i) => listeners.set(i, (a) => { if (a.tick === tick) got[i] = a; if (got.every(Boolean)) resolve(); })));
      ids.forEach((_, i) => adapters[i].observe({ tick, values: observations[i].slice() }));
      await done;
      observations = world.step(Int32Array.from(got.map((a) => a!.action))).observations;
      return got as ActionOut[];
    },
    async reports() { return (await operator.read(300)).reports; },
    async restart(i, whileDown) {
      await agents[i].stop();
      await whileDown?.();
      agents[i] = await make(i);
      await until(() => agents.every((a) => a.livePeers().length === ids.length - 1), 'every agent hears its peers again');
    },
    async close() { for (const a of agents) await a.stop(); },
  };
}

