// The over-the-air rollout protocol's control plane (docs/rollout.md): what an operator
// publishes and what each agent reports, as JSON parsed once here with a schema.
//
//   fm/<fleet>/rollout                 the plan (retained): which bundle each agent should run, and
//                                      the bundle on offer (its files, chunks and their sha256)
//   fm/<fleet>/bundles/<id>/<n>        chunk n of the offered bundle's bytes (retained)
//   fm/<fleet>/a/<agent>/rollout       the agent's report (retained): running, previous and staged
//                                      bundles, the download, refusals counted by reason
//
// A bundle is named by its id, the sha256 of its manifest.json. The manifest pins every file's
// sha256 and its signature covers the manifest, so the id names the bundle's exact bytes. A plan
// assigns absolute ids (never "the previous one"), so an agent that reads the same retained plan
// twice, after a restart, does the same thing once.

import { z } from 'zod';
import { ID_PATTERN } from '@fleetmind/wire';

export const ROLLOUT_FORMAT = 'fleetmind-rollout/1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');
const relativePath = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'a relative path of letters, digits, _ . - and /')
  .refine((p) => !p.split('/').includes('..'), 'no ".." in paths');
const id = z.string().regex(ID_PATTERN, '1-64 characters of A-Z a-z 0-9 _ . -');

/** A bundle's bytes: its files in path order, concatenated and cut into chunks of chunk_bytes. */
export const bundleOfferSchema = z.strictObject({
  id: sha256,
  name: z.string().min(1),
  version: z.string().min(1),
  files: z.array(z.strictObject({ path: relativePath, bytes: z.number().int().nonnegative(), sha256 })).min(1)
    .refine((files) => files.some((f) => f.path === 'manifest.json'), 'a bundle has a manifest.json'),
  chunk_bytes: z.number().int().positive(),
  /** each chunk's sha256, in order */
  chunks: z.array(sha256).min(1),
  /** the message layout agents must share within a round (bundleLayout) */
  layout: z.string(),
}).refine((o) => o.chunks.length === Math.max(1, Math.ceil(o.files.reduce((sum, f) => sum + f.bytes, 0) / o.chunk_bytes)), 'chunks must cover the files\' bytes exactly');

export type BundleOffer = z.infer<typeof bundleOfferSchema>;

export const rolloutPlanSchema = z.strictObject({
  format: z.literal(ROLLOUT_FORMAT),
  /** this plan's name; an agent acts on each plan once */
  rollout: id,
  issued_ms: z.number().nonnegative(),
  /** the bundle to download, or null when every assigned bundle is already on the agents (a rollback) */
  offer: bundleOfferSchema.nullable(),
  /** agent id (or "*" for the others) → the id of the bundle it should run; an agent not named keeps its own */
  assign: z.record(z.string(), sha256),
  /** switch at this tick (the world's in lockstep, the wall clock's free-running); null: at the next tick once ready */
  switch_at_tick: z.number().int().nonnegative().nullable(),
  /** per agent (or "*"): the bundle this plan replaces, so that a rollback can assign it back */
  replaces: z.record(z.string(), sha256),
  /** shadow mode: the assigned agents run the bundle beside their own on the same inputs and never act on it */
  shadow: z.boolean().default(false),
  /** each agent starts its download after a random delay up to this long, ms: a large fleet does not download all at once */
  spread_ms: z.number().int().nonnegative().max(3_600_000).default(0),
  /** a staged rollout's plan: which stage it opens (0: the shadow stage) of how many; null: one plan, no stages */
  stage: z.strictObject({ number: z.number().int().nonnegative(), of: z.number().int().positive() }).nullable().default(null),
});

export type RolloutPlan = z.infer<typeof rolloutPlanSchema>;

/** The bundle an agent should run under a plan, or null where the plan leaves it alone. */
export function assignedTo(plan: RolloutPlan, agent: string): string | null {
  return plan.assign[agent] ?? plan.assign['*'] ?? null;
}

/** store_failed: the agent's bundle store could not be read or written (a full disk, permissions) */
export const ROLLOUT_REFUSALS = ['malformed_plan', 'bad_chunk', 'integrity', 'unsigned', 'bad_signature', 'incompatible', 'too_large', 'unknown_bundle', 'load_failed', 'wrong_role', 'store_failed'] as const;
export type RolloutRefusal = (typeof ROLLOUT_REFUSALS)[number];

const bundleRef = z.strictObject({ id: sha256, name: z.string(), version: z.string() });

export const agentRolloutReportSchema = z.strictObject({
  agent: id,
  /** the last plan this agent acted on */
  rollout: id.nullable(),
  running: bundleRef,
  previous: bundleRef.nullable(),
  /** downloaded, verified and loaded, waiting for its tick */
  staged: bundleRef.nullable(),
  state: z.enum(['idle', 'downloading', 'staged', 'shadowing', 'switched', 'refused']),
  download: z.strictObject({ id: sha256, have: z.number().int().nonnegative(), of: z.number().int().positive() }).nullable(),
  /** the latest refusal, with what and why */
  refused: z.strictObject({ reason: z.enum(ROLLOUT_REFUSALS), detail: z.string() }).nullable(),
  refusals: z.partialRecord(z.enum(ROLLOUT_REFUSALS), z.number().int().nonnegative()),
  /** the tick of the last switch */
  switched_at_tick: z.number().int().nonnegative().nullable(),
  /** shadow mode: the candidate, and how often it chose what the live policy chose */
  shadow: z.strictObject({ id: sha256, name: z.string(), version: z.string(), decisions: z.number().int().nonnegative(), agreement: z.number().min(0).max(1), mean_abs_diff: z.number().nonnegative() }).nullable(),
  layout: z.string(),
  sent_ms: z.number().nonnegative(),
});

export type AgentRolloutReport = z.infer<typeof agentRolloutReportSchema>;

export class RolloutError extends Error {
  readonly code = 'FM_ERR_ROLLOUT';
}

/** Parses JSON bytes with a schema; the error says what was being read and the first problem. */
export function parseRolloutJson<T>(schema: z.ZodType<T>, bytes: Uint8Array | string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new RolloutError(`${what} is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RolloutError(`${what}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}
