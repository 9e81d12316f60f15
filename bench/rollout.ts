// `fleetmind bench rollout`: what an over-the-air rollout costs a fleet running in real time.
// A k-nearest CommNet bundle serves N agents (simulated at --hz over the embedded broker, each
// with a bundle store) in three runs: a nominal one without a rollout (the agents publishing
// their status ten times a second, as in the others), then
//   distribute: the same policy under a new version, padded to --bundle-mb with a pinned file,
//               goes to everyone at once: the time from the plan to every agent running it, and
//               the share of communication rounds inside their deadline meanwhile;
//   abort:      a bad bundle (bounds no observation fits: only safe actions) on a one-agent canary:
//               the time from the failed gate to every agent back on its bundle.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resizeBundle } from '@fleetmind/models';
import { rolloutStrategySchema } from '@fleetmind/runtime';
import { simulate, type SimReport } from '@fleetmind/sim-harness/fleet';
import { bundleVariant as variant } from './bundle-variant.js';

export interface RolloutBenchOptions {
  /** a one-role CommNet bundle trained on k-nearest observations without agent ids */
  bundle: string;
  agents: number;
  hz: number;
  /** the candidate's size, MB */
  bundleMb: number;
  episodes: number;
  onProgress?: (line: string) => void;
}

export interface RolloutBenchReport {
  agents: number;
  hz: number;
  bundle_bytes: number;
  /** the same fleet and episodes without a rollout: what the rollout run is compared with */
  nominal: { rounds_in_deadline_ratio: number; late_actions_ratio: number };
  distribute: {
    outcome: string;
    /** from the plan to every agent running the new bundle, ms */
    plan_to_all_switched_ms: number | null;
    /** the agents' own deadline misses over their communication rounds, the whole run */
    rounds_in_deadline_ratio: number;
    tiers: Record<string, number>;
    late_actions_ratio: number;
  };
  abort: {
    outcome: string;
    /** from the failed gate to every agent back on its bundle, ms */
    rolled_back_ms: number | null;
    /** the same in ticks of the world */
    rolled_back_ticks: number | null;
  };
}

function roundsInDeadline(r: SimReport, rounds: number): number {
  const c = r.agent_counters;
  if (!c) return NaN;
  const decided = Object.values(c.tiers).reduce((a, b) => a + b, 0);
  return 1 - c.deadlineMisses / Math.max(1, decided * rounds);
}

export async function benchRollout(o: RolloutBenchOptions): Promise<RolloutBenchReport> {
  const say = o.onProgress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'fm-bench-rollout-'));
  try {
    const fleet = join(dir, 'fleet');
    const manifest = resizeBundle(o.bundle, fleet, o.agents);
    const rounds = manifest.communication?.rounds ?? 0;
    const padBytes = Math.max(0, Math.round(o.bundleMb * 2 ** 20) - Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0));
    const good = variant(fleet, join(dir, 'good'), '1.0.1', padBytes);
    const bad = variant(fleet, join(dir, 'bad'), '6.6.6', 0, (m) => {
      const obs = m.roles[0].observation as { size: number; low?: number[]; high?: number[] };
      obs.low = Array(obs.size).fill(100);
      obs.high = Array(obs.size).fill(101);
    });
    const bundleBytes = padBytes + Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);

    say('nominal: no rollout');
    const nominal = await simulate({ bundle: fleet, episodes: o.episodes, seed: 1, hz: o.hz, agent: { statusMs: 100 } });
    say('distribute: everyone at once');
    const everyone = rolloutStrategySchema.parse({ kind: 'all', soak_s: 1, min_decisions: 5, stage_timeout_s: 120 });
    const dist = await simulate({ bundle: fleet, episodes: o.episodes, seed: 1, hz: o.hz, rollout: { bundle: good, strategy: everyone } });
    const decisions = dist.asked_actions;

    say('abort: a bad canary');
    const canary = rolloutStrategySchema.parse({ kind: 'canary', canary: { agents: ['agent_0'] }, soak_s: 0.5, min_decisions: 5, stage_timeout_s: 60 });
    const ab = await simulate({ bundle: fleet, episodes: o.episodes, seed: 1, hz: o.hz, rollout: { bundle: bad, strategy: canary } });
    const a = ab.rollout!;
    return {
      agents: o.agents, hz: o.hz, bundle_bytes: bundleBytes,
      nominal: { rounds_in_deadline_ratio: Number(roundsInDeadline(nominal, rounds).toFixed(4)), late_actions_ratio: Number((nominal.late_actions / Math.max(1, nominal.asked_actions)).toFixed(4)) },
      distribute: {
        outcome: dist.rollout!.outcome,
        plan_to_all_switched_ms: dist.rollout!.stages[0]?.switch_ms === null || dist.rollout!.stages[0] === undefined ? null : Math.round(dist.rollout!.stages[0].switch_ms),
        rounds_in_deadline_ratio: Number(roundsInDeadline(dist, rounds).toFixed(4)),
        tiers: dist.tiers,
        late_actions_ratio: Number((dist.late_actions / Math.max(1, decisions)).toFixed(4)),
      },
      abort: {
        outcome: a.outcome,
        rolled_back_ms: a.abort?.rolled_back_ms === null || !a.abort ? null : Math.round(a.abort.rolled_back_ms),
        rolled_back_ticks: a.abort_tick !== null && a.rolled_back_tick !== null ? a.rolled_back_tick - a.abort_tick : null,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
