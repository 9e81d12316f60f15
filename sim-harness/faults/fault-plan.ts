// Fault plans: what goes wrong, to whom, and when — YAML or JSON, checked by this schema, with
// errors that name the field. Each fault has a kind, a target and a window.
//
//   faults:
//     - kind: drop            # every message from an agent in `from` to one in `to` is lost with p
//       p: 0.3
//       links: { from: "*", to: "*" }
//     - kind: crash           # agents killed when the window opens, restarted after it (or sooner)
//       agents: { fraction: 0.1 }
//       window: { ticks: [5, 25] }
//       restart_after_ticks: 10
//
// Windows: `episodes: [a, b)` and `ticks: [a, b)` within each episode; both default to always.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const range = z.tuple([z.number().int().nonnegative(), z.number().int().positive()])
  .refine(([a, b]) => b > a, { message: 'the end must come after the start: [start, end)' });

const window = z.object({ episodes: range.optional(), ticks: range.optional() }).strict().default({});

const probability = z.number().min(0).max(1);
const agentIds = z.array(z.string().min(1)).min(1);

/** Which agents: by id, by fraction (chosen once per run from the seed), or all. */
const agents = z.union([
  z.literal('*'),
  agentIds,
  z.object({ fraction: z.number().gt(0).max(1) }).strict(),
]).default('*');

/** Which links: messages from an agent in `from` to an agent in `to`. */
const links = z.object({ from: agents, to: agents }).strict().default({ from: '*', to: '*' });

const linkFault = { links, window };
const agentFault = { agents, window };

export const faultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('drop'), p: probability, ...linkFault }).strict(),
  z.object({
    kind: z.literal('burst_drop'),
    /** Gilbert–Elliott: P(good → bad), P(bad → good), loss in each state */
    p_good_to_bad: probability, p_bad_to_good: probability, loss_good: probability.default(0), loss_bad: probability.default(1),
    ...linkFault,
  }).strict(),
  z.object({ kind: z.literal('delay'), ms: z.number().nonnegative().max(60_000), jitter_ms: z.number().nonnegative().max(60_000).default(0), ...linkFault }).strict(),
  z.object({ kind: z.literal('duplicate'), p: probability, ...linkFault }).strict(),
  z.object({ kind: z.literal('reorder'), p: probability, ...linkFault }).strict(),
  z.object({ kind: z.literal('corrupt'), p: probability, ...linkFault }).strict(),
  z.object({ kind: z.literal('partition'), groups: z.array(agentIds).min(2), window }).strict(),
  z.object({ kind: z.literal('crash'), restart_after_ticks: z.number().int().positive().optional(), ...agentFault }).strict(),
  z.object({ kind: z.literal('freeze'), ...agentFault }).strict(),
  z.object({ kind: z.literal('broker_outage'), window }).strict(),
  z.object({ kind: z.literal('slow_inference'), ms: z.number().positive().max(10_000), ...agentFault }).strict(),
  z.object({ kind: z.literal('sensor_noise'), sigma: z.number().positive(), ...agentFault }).strict(),
  z.object({ kind: z.literal('sensor_stuck'), ...agentFault }).strict(),
  z.object({ kind: z.literal('sensor_nan'), p: probability.default(1), ...agentFault }).strict(),
  z.object({ kind: z.literal('hostile'), garbage_per_tick: z.number().int().nonnegative().max(100).default(2), ...agentFault }).strict(),
]);

export const faultPlanSchema = z.object({
  name: z.string().optional(),
  description: z.string().optional(),
  faults: z.array(faultSchema),
}).strict();

export type Fault = z.infer<typeof faultSchema>;
export type FaultKind = Fault['kind'];
export type FaultPlan = z.infer<typeof faultPlanSchema>;
export type AgentSelector = z.infer<typeof agents>;
export type FaultWindow = z.infer<typeof window>;

export const FAULT_KINDS: readonly FaultKind[] = faultSchema.options.map((o) => o.shape.kind.value);

export class FaultPlanError extends Error {
  readonly code = 'FM_ERR_FAULT_PLAN';
}

/** Parses a plan from YAML or JSON text; `where` names the source in errors. */
export function parseFaultPlan(text: string, where = 'fault plan'): FaultPlan {
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new FaultPlanError(`${where} is neither YAML nor JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = faultPlanSchema.safeParse(data);
  if (!parsed.success) {
    // a typo ("prob" for "p") also makes the real key missing: the unknown key is the news
    // (within a fault: a file that is no plan at all is better told that it lacks `faults`)
    const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys' && i.path[0] === 'faults') ?? parsed.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    let message = issue.message;
    if (issue.code === 'invalid_union' && issue.path.at(-1) === 'kind') message = `unknown fault kind; kinds: ${FAULT_KINDS.join(', ')}`;
    if (issue.code === 'unrecognized_keys') message = `${unknownKeys(issue.keys)}${knownKeys(data, issue.path)}`;
    throw new FaultPlanError(`${where}: ${path || '(top level)'}: ${message}`);
  }
  return parsed.data;
}

function unknownKeys(keys: readonly PropertyKey[]): string {
  return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(String(k))).join(', ')}`;
}

/** "; a drop fault takes kind, p, links, window", when the path is a fault whose kind is known */
function knownKeys(data: unknown, path: readonly PropertyKey[]): string {
  if (path.length !== 2 || path[0] !== 'faults' || typeof path[1] !== 'number') return '';
  const kind = (data as { faults: { kind?: unknown }[] }).faults[path[1]]?.kind;
  const option = faultSchema.options.find((o) => o.shape.kind.value === kind);
  return option ? `; a ${String(kind)} fault takes ${Object.keys(option.shape).join(', ')}` : '';
}

export function loadFaultPlan(path: string): FaultPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FaultPlanError(`cannot read fault plan ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseFaultPlan(text, path);
}

/** Whether a window is open at tick `tick` (within the episode) of episode `episode`. */
export function windowOpen(w: FaultWindow, episode: number, tick: number): boolean {
  const inside = (r: [number, number] | undefined, x: number) => !r || (x >= r[0] && x < r[1]);
  return inside(w.episodes, episode) && inside(w.ticks, tick);
}
