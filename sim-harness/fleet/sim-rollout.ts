// A rollout inside a simulated fleet (`fleetmind sim --rollout FILE --rollout-bundle DIR`): every
// agent gets a bundle store, and while the episodes play, the rollout controller
// (runtime/rollout) ships the bundle stage by stage behind its health gates, over the run's own
// broker and under its fault plan. The report shows which version each agent ran from which tick,
// the stages and their gates, and, on an abort, how many ticks the fleet took to be back.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutOperator, runRollout, type RetainedReturn, type RolloutResult, type RolloutStrategy } from '@fleetmind/runtime';

export interface SimRolloutOptions {
  /** the bundle to roll out */
  bundle: string;
  strategy: RolloutStrategy;
  /** the rollout's name (default: sim-rollout) */
  name?: string;
  /**
   * each episode's team return in the nominal run and under a random policy (the same seeds):
   * what the min_retained gate measures the episodes played on a stage against
   */
  baseline?: { nominal: readonly number[]; random: readonly number[] };
}

export interface SimRolloutReport extends RolloutResult {
  /** each time any agent's running bundle changed: from this tick on, each agent ran these (name and version) */
  versions: { tick: number; episode: number; versions: Record<string, string> }[];
  /** the tick a stage failed at, and the first tick every agent ran its old version again */
  abort_tick: number | null;
  rolled_back_tick: number | null;
}

export class SimRollout {
  private readonly root = mkdtempSync(join(tmpdir(), 'fm-sim-rollout-'));
  private operator: RolloutOperator | null = null;
  private running: Promise<RolloutResult> | null = null;
  /** the strategy has ended (completed or aborted) */
  private ended = false;
  private readonly stop = new AbortController();
  private readonly versions: SimRolloutReport['versions'] = [];
  private initial: Record<string, string> | null = null;
  private tick = 0;
  private abortTick: number | null = null;
  private rolledBackTick: number | null = null;
  /** the episodes played so far: when each started (performance.now()) and its team return */
  private readonly played: { episode: number; startedMs: number; teamReturn: number }[] = [];

  constructor(private readonly o: SimRolloutOptions, private readonly ids: readonly string[]) {}

  /** the agent's bundle store */
  store(id: string): string {
    return join(this.root, id);
  }

  /** Once the fleet is online: offer the bundle and run the strategy in the background. */
  async start(brokerUrl: string, fleet: string, credentials?: { username: string; password: string }): Promise<void> {
    const operator = await RolloutOperator.connect({ brokerUrl, fleet, ...credentials });
    this.operator = operator;
    await operator.until(() => operator.now().reports.length === this.ids.length, `every agent reports what it runs`, 15_000);
    const offered = await operator.offer({ bundleDir: this.o.bundle });
    this.running = runRollout({
      operator, offer: offered.offer, strategy: this.o.strategy, rollout: this.o.name ?? 'sim-rollout', agents: [...this.ids], signal: this.stop.signal,
      onAbort: () => { this.abortTick = this.tick; },
      retainedSince: this.o.baseline ? (sinceMs) => this.retainedSince(sinceMs) : undefined,
    });
    const end = () => { this.ended = true; };
    this.running.then(end, end);
  }

  /**
   * Nothing more will change on the wall clock: the strategy has ended and, after an abort, the
   * fleet has been seen back on its bundle. From then on a lockstep run need not hold its ticks
   * to ROLLOUT_LOCKSTEP_MIN_TICK_MS.
   */
  get settled(): boolean {
    return this.ended && (this.abortTick === null || this.rolledBackTick !== null);
  }

  /** Each tick: which version each agent runs now (as it last reported). */
  observe(tick: number, episode: number): void {
    this.tick = tick;
    if (!this.operator) return;
    const now = Object.fromEntries(this.operator.now().reports.map((r) => [r.agent, `${r.running.name} ${r.running.version}`]));
    this.initial ??= now;
    const last = this.versions.at(-1)?.versions;
    if (!last || this.ids.some((id) => last[id] !== now[id])) this.versions.push({ tick, episode, versions: now });
    if (this.abortTick !== null && this.rolledBackTick === null && this.ids.every((id) => now[id] === this.initial![id])) this.rolledBackTick = tick;
  }

  /** An episode has ended: its return, for the min_retained gate. */
  episodeEnded(episode: number, startedMs: number, teamReturn: number): void {
    this.played.push({ episode, startedMs, teamReturn });
  }

  /** Retained performance over the episodes that started at or after sinceMs (null: none has ended yet). */
  private retainedSince(sinceMs: number): RetainedReturn | null {
    const { nominal, random } = this.o.baseline!;
    const since = this.played.filter((p) => p.startedMs >= sinceMs);
    if (since.length === 0) return null;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [run, nom, rand] = [since.map((p) => p.teamReturn), since.map((p) => nominal[p.episode]), since.map((p) => random[p.episode])];
    return { episodes: since.length, retained: (mean(run) - mean(rand)) / (mean(nom) - mean(rand)) };
  }

  /** After the episodes: the rollout's result (unfinished if the run ended first). */
  async finish(): Promise<SimRolloutReport | null> {
    if (!this.running) return null;
    this.stop.abort();
    const result = await this.running;
    return { ...result, versions: this.versions, abort_tick: this.abortTick, rolled_back_tick: this.rolledBackTick };
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running?.catch(() => {});
    await this.operator?.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
