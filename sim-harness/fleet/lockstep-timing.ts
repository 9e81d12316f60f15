// How long a lockstep run waits, on the wall clock, for what it waits for. Lockstep runs on
// simulated time: the network tells each receiver what it lost, so a round ends when every
// peer's message has arrived or been announced lost, and the world's tick ends when every
// running agent has answered. The wall-clock limits below only guard against a hang; they must
// be far beyond any stall a loaded machine causes, or its load would change the episodes (a
// 250 ms budget once made a parity run on a busy 2-core CI machine act on partial messages).
// No imports: the command line reads these for its help without loading the simulator.

/** the world waits this long for a tick's actions before replacing the missing ones, ms */
export const LOCKSTEP_TICK_TIMEOUT_MS = 4_000;

/** an agent's decision (its rounds included) may take this long before it takes the safe action instead, ms */
export const LOCKSTEP_TICK_BUDGET_MS = 2_000;

/**
 * an observation this old on the wall clock when its agent takes it up is stale (the safe action),
 * ms: as long as the world waits for the tick's actions. The agents' own default, 1 s, is a
 * robot's freshness, and within a stall's reach: a lockstep run on a busy CI host once took the
 * safe action 3 times where the same run had not (in threads mode, whose agents report no
 * counters: whether for staleness or an overrun is not known)
 */
export const LOCKSTEP_OBSERVATION_MAX_AGE_MS = LOCKSTEP_TICK_TIMEOUT_MS;

/**
 * a sharded lockstep run (sim --shards) has no simulated network to announce a lost message, so
 * a round waits for a peer's message this long before going on without it, ms — within the tick
 * budget, beyond any stall (an agent's decision has one or two rounds)
 */
export const SHARDED_LOCKSTEP_ROUND_DEADLINE_MS = 900;

/**
 * a lockstep run with a rollout plays a tick no faster than this, ms, until the rollout has
 * settled (ended, and after an abort the fleet seen back): the rollout advances on the wall clock
 * (statuses, soaks, downloads, switches), so without a floor how many ticks a stage or a rollback
 * spans would depend on how fast the machine plays them (a faster machine once took 28–37 ticks
 * to be back on the old bundle where a slower one took a handful). Once it has settled the
 * remaining ticks play at full speed: a rollout settled by tick 64 held the other 936 ticks of
 * a 40-episode run at 10 ms each
 */
export const ROLLOUT_LOCKSTEP_MIN_TICK_MS = 10;
