// How a rollout proceeds (`fleetmind rollout start --strategy FILE`, YAML or JSON), parsed once
// here: who switches in which stage, how long each stage soaks, and the health gates a stage must
// pass before the next one starts. A stage that fails a gate aborts the rollout and rolls back
// every agent it switched.
//
//   all:    one stage, every agent
//   canary: the canary (a list of agents, or a fraction of the fleet), then everyone
//   staged: Greengrass-style rates, a fraction `base` of the fleet first, then `base × factor`,
//           `base × factor²` … until all (each stage includes the earlier ones)
// Pinned agents keep their bundle throughout. With `shadow`, a shadow stage comes first: the
// bundle decides beside the live policy everywhere, and the rollout goes on only if they agree.

import { z } from 'zod';
import { ID_PATTERN } from '@fleetmind/wire';

const agentId = z.string().regex(ID_PATTERN, '1-64 characters of A-Z a-z 0-9 _ . -');
const fraction = z.number().gt(0).max(1);

/** Health gates, judged per stage over the decisions its switched agents made while it soaked. */
export const healthGatesSchema = z.strictObject({
  /** at most this share of decisions may be the safe action */
  max_safe_rate: fraction.default(0.05),
  /** at least this share of decisions must have heard every teammate (null: not judged) */
  min_full_rate: fraction.nullable().default(null),
  /** at most this many round deadlines missed per decision (null: not judged) */
  max_deadline_miss_rate: z.number().nonnegative().nullable().default(null),
  /** the policy's inference p50 must stay under this, ms (null: not judged) */
  max_inference_p50_ms: z.number().positive().nullable().default(null),
  /**
   * in simulation only (sim --rollout): the team return of the episodes played wholly after the
   * stage's switch, as retained performance against the nominal run and a random policy on the
   * same episodes, must reach this (null: not judged). A real fleet's return is not known.
   */
  min_retained: fraction.nullable().default(null),
});

export type HealthGates = z.infer<typeof healthGatesSchema>;

export const rolloutStrategySchema = z.strictObject({
  kind: z.enum(['all', 'canary', 'staged']),
  /** canary: these agents first, or this fraction of the fleet (at least one agent) */
  canary: z.strictObject({ agents: z.array(agentId).min(1).optional(), fraction: fraction.optional() })
    .refine((c) => (c.agents === undefined) !== (c.fraction === undefined), 'a canary is either agents or a fraction')
    .optional(),
  /** staged: the first stage's fraction of the fleet and the factor each stage grows by */
  staged: z.strictObject({ base: fraction, factor: z.number().gt(1) }).optional(),
  /** how long each stage runs on the new bundle before its gates are judged, s */
  soak_s: z.number().nonnegative().default(5),
  /** and at least this many decisions per switched agent (a fleet that does not act proves nothing) */
  min_decisions: z.number().int().positive().default(20),
  /** a stage whose agents have not all switched (or not made min_decisions) within this long fails, s */
  stage_timeout_s: z.number().positive().default(60),
  gates: healthGatesSchema.default(healthGatesSchema.parse({})),
  /** agents that keep the bundle they run */
  pinned: z.array(agentId).default([]),
  /**
   * first, every agent that will move runs the bundle in shadow (beside its own, never acted on);
   * the stages start only if each chose what its live policy chose in at least min_agreement of
   * min_decisions decisions or more
   */
  shadow: z.strictObject({ min_agreement: fraction }).optional(),
}).superRefine((s, ctx) => {
  if (s.kind === 'canary' && !s.canary) ctx.addIssue({ code: 'custom', path: ['canary'], message: 'a canary strategy needs canary: {agents: [...]} or {fraction: f}' });
  if (s.kind === 'staged' && !s.staged) ctx.addIssue({ code: 'custom', path: ['staged'], message: 'a staged strategy needs staged: {base: f, factor: x}' });
});

export type RolloutStrategy = z.infer<typeof rolloutStrategySchema>;

/** The agents switched by the end of each stage (cumulative), from the fleet's agents in id order. */
export function stagesOf(strategy: RolloutStrategy, fleetAgents: readonly string[]): string[][] {
  const pinned = new Set(strategy.pinned);
  const movable = [...fleetAgents].filter((a) => !pinned.has(a)).sort();
  const first = (share: number) => movable.slice(0, Math.max(1, Math.ceil(share * movable.length)));
  if (movable.length === 0) return [];
  if (strategy.kind === 'all') return [movable];
  if (strategy.kind === 'canary') {
    const canary = strategy.canary!.agents ?? first(strategy.canary!.fraction!);
    const unknown = canary.filter((a) => !movable.includes(a));
    if (unknown.length > 0) throw new Error(`the canary names agents that are not in the fleet or are pinned: ${unknown.join(', ')}`);
    return canary.length === movable.length ? [movable] : [canary, movable];
  }
  const stages: string[][] = [];
  for (let share = strategy.staged!.base; ; share *= strategy.staged!.factor) {
    const stage = first(Math.min(1, share));
    if (stages.at(-1)?.length !== stage.length) stages.push(stage);
    if (stage.length === movable.length) return stages;
  }
}
