// An agent's settings, parsed once with a schema; the defaults suit a 10 Hz fleet on a LAN.

import { z } from 'zod';

export const agentSettingsSchema = z.object({
  /** fleet name: the topic namespace fm/<fleet>/ */
  fleet: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 _ . -').default('default'),
  /** act when an observation arrives (lockstep) or at a fixed rate (hz) */
  hz: z.number().positive().max(1000).nullable().default(null),
  /** how long one communication round waits for live peers, ms */
  roundDeadlineMs: z.number().positive().max(10_000).default(20),
  /** a decision slower than this is replaced by the safe action, ms (default: 1000/hz, or 250 in lockstep) */
  tickBudgetMs: z.number().positive().max(60_000).nullable().default(null),
  /** heartbeat period and the silence after which a peer counts as dead, ms */
  heartbeatMs: z.number().positive().max(60_000).default(200),
  peerTimeoutMs: z.number().positive().max(600_000).default(1_000),
  /**
   * observations older than this (by their sent time, or by arrival when free-running) get the
   * safe action, ms; so do those sent further than this in the future (the sender's clock is ahead)
   */
  maxObservationAgeMs: z.number().positive().default(1_000),
  /**
   * lockstep: what happens to observations that arrive while a tick runs. 'latest' (robots): the
   * newest waits, an older waiting one is replaced (counted as replaced) — act on the freshest
   * view. 'fifo' (simulators that step faster than the agent): each waits its turn, up to
   * OBSERVATION_QUEUE_LIMIT (beyond: queue_full).
   */
  observationQueue: z.enum(['latest', 'fifo']).default('latest'),
  /** reconnection backoff: first delay and cap, ms (full jitter between half and all of it) */
  reconnectBaseMs: z.number().positive().default(100),
  reconnectMaxMs: z.number().positive().default(5_000),
  /**
   * simulation only: trust the simulator's LostNotices on this agent's link. A round then waits
   * for every peer's message or notice (bounded by the tick budget), never racing the round
   * deadline, so a lockstep simulation is deterministic. Never set on a robot.
   */
  lostNotices: z.boolean().default(false),
  /** how often the agent publishes its AgentStatus for dashboards, ms (0: never) */
  statusMs: z.number().int().nonnegative().max(600_000).default(1_000),
  /** the flight recorder: MCAP files of every tick in `dir` (null: off) */
  record: z.strictObject({
    dir: z.string().min(1),
    /** start a new file past this size / age */
    maxFileBytes: z.number().int().min(65_536).default(64 * 2 ** 20),
    maxFileAgeMs: z.number().positive().default(3_600_000),
    /** the oldest files go while this agent's recordings hold more */
    budgetBytes: z.number().int().positive().default(2 ** 30),
    /** uncompressed bytes per chunk: at most this is lost in a crash */
    chunkBytes: z.number().int().min(1024).max(16 * 2 ** 20).default(64 * 2 ** 10),
    compression: z.enum(['zstd', 'none']).default('zstd'),
  }).refine((r) => r.budgetBytes >= r.maxFileBytes, { message: 'budgetBytes must hold at least one file (maxFileBytes)', path: ['budgetBytes'] }).nullable().default(null),
  /**
   * a recurrent policy: its state is forgotten when more than this much wall time passed since the
   * last decision, ms (it is also forgotten at a new episode and after a skipped tick: recurrent-memory.ts)
   */
  memoryMaxAgeMs: z.number().positive().default(1_000),
  /** continuous actions: the most each component may change from one tick's action to the next (null: no limit) */
  actionRateLimit: z.number().positive().nullable().default(null),
  /**
   * 'quarantine': check each peer's messages against the policy's own arithmetic (CommNet: a
   * round's message is what the last stage makes of the peer's previous message and what the team
   * said), leave out a message that fails, and quarantine a peer that fails twice in a row until it
   * passes 20 times (runtime/agent/peer-consistency.ts). For teams in which every agent hears
   * every other, with two or more rounds. 'off': trust every well-formed message.
   */
  peerChecks: z.enum(['off', 'quarantine']).default('off'),
  /** peers whose messages fill the inbox, in slot order (default: the agent's teammates in the bundle) */
  peers: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).nullable().default(null),
}).refine((s) => s.peerTimeoutMs > s.heartbeatMs, { message: 'peerTimeoutMs must exceed heartbeatMs', path: ['peerTimeoutMs'] })
  .refine((s) => s.reconnectMaxMs >= s.reconnectBaseMs, { message: 'reconnectMaxMs must be at least reconnectBaseMs', path: ['reconnectMaxMs'] });

export type AgentSettings = z.infer<typeof agentSettingsSchema>;
export type AgentSettingsInput = z.input<typeof agentSettingsSchema>;

export class AgentConfigError extends Error {
  readonly code = 'FM_ERR_AGENT_CONFIG';
}

export function parseAgentSettings(input: AgentSettingsInput): AgentSettings {
  const parsed = agentSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentConfigError(`agent setting ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}
