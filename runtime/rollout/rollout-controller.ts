// A rollout run stage by stage (rollout-strategy.ts), as Flagger runs a canary: publish a plan
// that assigns the new bundle to the stage's agents, wait until they all run it, let it soak, and
// judge the stage's health gates on the decisions those agents made since their switch (from
// their own status counters: fm/<fleet>/a/<agent>/status). A stage that passes opens the next one;
// one that fails aborts the rollout — every agent is assigned back the bundle it ran — and the
// run measures how long the fleet took to be back.

import type { AgentStatus } from '@fleetmind/wire';
import type { AgentRolloutReport, BundleOffer, RolloutPlan } from './rollout-plan.js';
import type { RolloutOperator } from './rollout-operator.js';
import { stagesOf, type HealthGates, type RolloutStrategy } from './rollout-strategy.js';

export interface StageHealth {
  agent: string;
  decisions: number;
  safe_rate: number;
  full_rate: number;
  deadline_miss_rate: number;
  inference_p50_ms: number;
}

export interface StageResult {
  /** 0: the shadow stage */
  stage: number;
  /** the shadow stage: each agent's agreement with its live policy */
  shadow?: { agent: string; decisions: number; agreement: number; mean_abs_diff: number }[];
  agents: string[];
  /** from the plan to every agent of the stage running the bundle, ms */
  switch_ms: number | null;
  health: StageHealth[];
  /** in simulation, with the min_retained gate: the episodes played wholly on this stage and their retained performance */
  retained?: RetainedReturn;
  /** what failed, by gate and agent (empty: passed) */
  failures: string[];
}

export interface RolloutResult {
  rollout: string;
  bundle: { id: string; name: string; version: string };
  /** unfinished: stopped from outside (the simulation ended first) */
  outcome: 'completed' | 'aborted' | 'unfinished';
  stages: StageResult[];
  /** abort: why, and from the failed gate to every agent back on its old bundle, ms */
  abort: { reason: string; rolled_back_ms: number | null; rollback: string } | null;
}

const decisionsOf = (s: AgentStatus) => s.tiers.full + s.tiers.partial + s.tiers.none + s.tiers.safe;

/** Why this agent's decisions since `base` fail the gates (empty: they pass). */
export function gateFailures(agent: StageHealth, gates: HealthGates): string[] {
  const failures: string[] = [];
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  if (agent.safe_rate > gates.max_safe_rate) failures.push(`${agent.agent}: safe actions ${pct(agent.safe_rate)} > ${pct(gates.max_safe_rate)}`);
  if (gates.min_full_rate !== null && agent.full_rate < gates.min_full_rate) failures.push(`${agent.agent}: full communication ${pct(agent.full_rate)} < ${pct(gates.min_full_rate)}`);
  if (gates.max_deadline_miss_rate !== null && agent.deadline_miss_rate > gates.max_deadline_miss_rate) failures.push(`${agent.agent}: ${agent.deadline_miss_rate.toFixed(3)} deadline misses per decision > ${gates.max_deadline_miss_rate}`);
  if (gates.max_inference_p50_ms !== null && agent.inference_p50_ms > gates.max_inference_p50_ms) failures.push(`${agent.agent}: inference p50 ${agent.inference_p50_ms.toFixed(2)} ms > ${gates.max_inference_p50_ms} ms`);
  return failures;
}

function healthSince(agent: string, base: AgentStatus, now: AgentStatus): StageHealth {
  const decisions = decisionsOf(now) - decisionsOf(base);
  const share = (x: number) => (decisions > 0 ? x / decisions : 0);
  return {
    agent, decisions,
    safe_rate: share(now.tiers.safe - base.tiers.safe),
    full_rate: share(now.tiers.full - base.tiers.full),
    deadline_miss_rate: share(now.deadlineMisses - base.deadlineMisses),
    inference_p50_ms: now.inferenceP50Ms,
  };
}

export interface RetainedReturn {
  episodes: number;
  /** (R_stage − R_random) / (R_nominal − R_random) over those episodes */
  retained: number;
}

export interface ControllerOptions {
  operator: RolloutOperator;
  offer: BundleOffer;
  strategy: RolloutStrategy;
  rollout: string;
  /** the fleet's agents: those that have reported (by default) */
  agents: string[];
  switchAtTick?: number | null;
  onProgress?: (line: string) => void;
  /** called when a stage fails, before the rollback is published */
  onAbort?: (reason: string) => void;
  /** aborted: stop where the rollout is (outcome unfinished), publishing nothing more */
  signal?: AbortSignal;
  /**
   * in simulation: the retained performance of the episodes that started at or after `sinceMs`
   * (performance.now()), null while none has ended — what the min_retained gate judges
   */
  retainedSince?: (sinceMs: number) => RetainedReturn | null;
}

/** A strategy this controller cannot judge here, said before anything is published. */
export function strategyProblem(strategy: RolloutStrategy, inSimulation: boolean): string | null {
  if (strategy.gates.min_retained !== null && !inSimulation) return 'gates.min_retained is judged in simulation only (fleetmind sim --rollout): a real fleet\'s return is not known';
  return null;
}

export async function runRollout(o: ControllerOptions): Promise<RolloutResult> {
  const { operator, offer, strategy } = o;
  const say = o.onProgress ?? (() => {});
  const problem = strategyProblem(strategy, Boolean(o.retainedSince));
  if (problem) throw new Error(problem);
  const stages = stagesOf(strategy, o.agents);
  const reportOf = (agent: string) => operator.now().reports.find((r) => r.agent === agent);
  // what each agent that will move runs now: what an abort assigns back
  const replaces: Record<string, string> = {};
  for (const agent of stages.at(-1) ?? []) {
    const report = reportOf(agent);
    if (!report) throw new Error(`agent ${agent} has not reported what it runs: it is offline, or was started without --bundle-store`);
    replaces[agent] = report.running.id;
  }
  const result: RolloutResult = { rollout: o.rollout, bundle: { id: offer.id, name: offer.name, version: offer.version }, outcome: 'completed', stages: [], abort: null };
  let plan: RolloutPlan | null = null;
  /** the plans this run published (the broker may still echo an earlier one after a later one went out) */
  const ours = new Set<string>();
  /** a plan this run did not publish (`rollout abort` from elsewhere) ends it: the fleet is someone else's now */
  const replacedBy = (): string | null => {
    const current = operator.now().plan;
    return current && plan && !ours.has(current.rollout) ? current.rollout : null;
  };
  const handedOver = (by: string): RolloutResult => {
    result.outcome = 'aborted';
    result.abort = { reason: `plan ${by}, published elsewhere, replaced this rollout's`, rolled_back_ms: null, rollback: by };
    say(result.abort.reason);
    return result;
  };
  const stopped = () => Boolean(o.signal?.aborted);
  const unfinished = (): RolloutResult => {
    result.outcome = 'unfinished';
    say('stopped before the rollout finished');
    return result;
  };
  const abort = async (reason: string): Promise<RolloutResult> => {
    if (stopped()) return unfinished();
    const other = replacedBy();
    if (other) return handedOver(other);
    const failedAt = performance.now();
    o.onAbort?.(reason);
    result.outcome = 'aborted';
    const rollback = `${o.rollout}-abort`;
    ours.add(rollback);
    say(`aborting: ${reason}; assigning every agent back its bundle (plan ${rollback})`);
    await operator.assignBack(rollback, plan!);
    let rolledBackMs: number | null = null;
    try {
      await operator.until(() => stopped() || Object.entries(replaces).every(([agent, id]) => reportOf(agent)?.running.id === id && reportOf(agent)?.rollout === rollback), 'every agent runs its old bundle again', strategy.stage_timeout_s * 1000, o.signal);
      if (stopped()) throw new Error('stopped before every agent was seen back on its old bundle');
      rolledBackMs = performance.now() - failedAt;
      say(`rolled back in ${Math.round(rolledBackMs)} ms`);
    } catch (err) {
      say(`${(err as Error).message}`);
    }
    result.abort = { reason, rolled_back_ms: rolledBackMs, rollback };
    return result;
  };

  /** After waiting on a stage: the run's end if it was stopped, handed over, or an agent refused the bundle; null to go on. */
  const endedBy = async (stageResult: StageResult, stage: string, refusedBy: () => AgentRolloutReport | undefined): Promise<RolloutResult | null> => {
    if (stopped()) return unfinished();
    const other = replacedBy();
    if (other) return handedOver(other);
    const refusal = refusedBy();
    if (!refusal) return null;
    stageResult.failures.push(`${refusal.agent} refused the bundle: ${refusal.refused?.reason}: ${refusal.refused?.detail}`);
    return abort(`${stage}: ${stageResult.failures[0]}`);
  };

  if (strategy.shadow) {
    const movable = stages.at(-1) ?? [];
    const name = `${o.rollout}-shadow`;
    say(`shadow stage: ${movable.length} agents run ${offer.version} beside their own`);
    ours.add(name);
    plan = await operator.assign({ rollout: name, offer, agents: movable, switchAtTick: null, replaces, shadow: true, stage: { number: 0, of: stages.length } });
    const stageResult: StageResult = { stage: 0, agents: movable, switch_ms: null, health: [], failures: [] };
    result.stages.push(stageResult);
    const started = performance.now();
    const soakEnds = started + strategy.soak_s * 1000;
    const shadowOf = () => movable.flatMap((a) => {
      const shadow = reportOf(a)?.shadow;
      return shadow && shadow.id === offer.id ? [{ agent: a, decisions: shadow.decisions, agreement: shadow.agreement, mean_abs_diff: shadow.mean_abs_diff }] : [];
    });
    const refusedBy = () => movable.map(reportOf).find((r) => r?.rollout === name && r.state === 'refused');
    try {
      await operator.until(() => stopped() || Boolean(replacedBy() ?? refusedBy()) || (performance.now() >= soakEnds && shadowOf().length === movable.length && shadowOf().every((s) => s.decisions >= strategy.min_decisions)),
        `every agent makes ${strategy.min_decisions} shadow decisions with ${offer.version}`, strategy.stage_timeout_s * 1000, o.signal);
    } catch (err) {
      stageResult.shadow = shadowOf();
      stageResult.failures.push((err as Error).message);
      return abort(`shadow stage: ${(err as Error).message}`);
    }
    const ended = await endedBy(stageResult, 'shadow stage', refusedBy);
    if (ended) return ended;
    stageResult.shadow = shadowOf();
    const min = strategy.shadow.min_agreement;
    stageResult.failures = stageResult.shadow.filter((s) => s.agreement < min).map((s) => `${s.agent}: shadow agreement ${(100 * s.agreement).toFixed(1)} % < ${(100 * min).toFixed(1)} %`);
    if (stageResult.failures.length > 0) return abort(`the shadow stage failed its gate: ${stageResult.failures.join('; ')}`);
    say(`shadow stage passed: ${stageResult.shadow.map((s) => `${s.agent} ${(100 * s.agreement).toFixed(1)} % of ${s.decisions}`).join('; ')}`);
  }

  for (const [k, agents] of stages.entries()) {
    const name = stages.length === 1 ? o.rollout : `${o.rollout}-s${k + 1}`;
    say(`stage ${k + 1}/${stages.length}: ${agents.length} agent${agents.length === 1 ? '' : 's'} (${agents.join(', ')})`);
    const started = performance.now();
    ours.add(name);
    plan = await operator.assign({ rollout: name, offer, agents, switchAtTick: o.switchAtTick ?? null, replaces, stage: { number: k + 1, of: stages.length } });
    const stageResult: StageResult = { stage: k + 1, agents, switch_ms: null, health: [], failures: [] };
    result.stages.push(stageResult);
    const deadline = started + strategy.stage_timeout_s * 1000;
    const left = () => Math.max(1, deadline - performance.now());
    const refusedBy = () => agents.map(reportOf).find((r) => r?.rollout === name && r.state === 'refused');
    try {
      await operator.until(() => stopped() || Boolean(replacedBy() ?? refusedBy()) || agents.every((a) => reportOf(a)?.running.id === offer.id), `stage ${k + 1}'s agents run ${offer.version}`, left(), o.signal);
    } catch (err) {
      stageResult.failures.push((err as Error).message);
      return abort(`stage ${k + 1}: ${(err as Error).message}`);
    }
    const ended = await endedBy(stageResult, `stage ${k + 1}`, refusedBy);
    if (ended) return ended;
    const switchedAt = performance.now();
    stageResult.switch_ms = switchedAt - started;
    const retainedGate = strategy.gates.min_retained;
    const retained = () => (retainedGate !== null ? o.retainedSince!(switchedAt) : null);
    // each agent's counters from its first status sent after its switch
    const base = new Map<string, AgentStatus>();
    const soakEnds = performance.now() + strategy.soak_s * 1000;
    const current = () => agents.flatMap((a) => {
      const status = operator.now().statuses.get(a);
      const switchedMs = reportOf(a)?.sent_ms ?? Infinity;
      if (status && !base.has(a) && status.sentUs / 1000 >= switchedMs) base.set(a, status);
      const from = base.get(a);
      return from && status ? [healthSince(a, from, status)] : [];
    });
    try {
      await operator.until(() => {
        if (stopped() || replacedBy()) return true;
        const health = current();
        return performance.now() >= soakEnds && health.length === agents.length && health.every((h) => h.decisions >= strategy.min_decisions)
          && (retainedGate === null || retained() !== null);
      }, `stage ${k + 1}'s agents each make ${strategy.min_decisions} decisions on ${offer.version} over ${strategy.soak_s} s${retainedGate === null ? '' : ', and an episode is played wholly on it'}`, left(), o.signal);
    } catch (err) {
      stageResult.health = current();
      if (retainedGate !== null) stageResult.retained = retained() ?? undefined;
      stageResult.failures.push((err as Error).message);
      return abort(`stage ${k + 1}: ${(err as Error).message}`);
    }
    if (stopped()) return unfinished();
    const otherPlan = replacedBy();
    if (otherPlan) return handedOver(otherPlan);
    stageResult.health = current();
    stageResult.failures = stageResult.health.flatMap((h) => gateFailures(h, strategy.gates));
    if (retainedGate !== null) {
      const judged = retained()!;
      stageResult.retained = judged;
      if (judged.retained < retainedGate) stageResult.failures.push(`team return retained ${(100 * judged.retained).toFixed(1)} % < ${(100 * retainedGate).toFixed(1)} % over ${judged.episodes} episode${judged.episodes === 1 ? '' : 's'}`);
    }
    if (stageResult.failures.length > 0) return abort(`stage ${k + 1} failed its health gates: ${stageResult.failures.join('; ')}`);
    say(`stage ${k + 1} passed: ${stageResult.health.map((h) => `${h.agent} ${h.decisions} decisions, ${(100 * h.safe_rate).toFixed(1)} % safe`).join('; ')}`);
  }
  return result;
}
