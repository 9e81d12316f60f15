// Fleet-in-the-loop simulation: a world server plays episodes with a fleet of real runtime
// agents over a real broker, each agent behind its own link proxy while a fault plan strikes
// (with nothing for the links to do, straight to the broker: sim-network.ts).
// This file is the tick loop and the wiring; the network (sim-network.ts), liveness
// (heartbeat-watch.ts), action collection (action-collector.ts) and agent faults
// (agent-faults.ts) are their own units.
//
// Each tick: the world's observation for every agent goes to it (through the sensor faults),
// the server waits for every running agent's action (lockstep, up to a timeout; or one period
// with --hz), a missing action is replaced by the role's safe action (a watchdog stops the motors
// of a robot whose controller fell silent) or, with missingAction 'hold', by the agent's previous
// action (an actuator that keeps its last command) — and the world steps. Episodes are tallied
// by the same EpisodeTally as `fleetmind eval`, so that with no faults the per-episode team
// returns equal `eval --bundle`'s, episode by episode.

import { randomBytes } from 'node:crypto';
import { loadBundle, type LoadedBundle } from '@fleetmind/models';
import { FlightRecorder, type AgentSettingsInput, type AgentSnapshot, type TickRecord } from '@fleetmind/runtime';
import { encodeWorldStepRecord, fleetTopic, type Tier, type WorldStepRecord } from '@fleetmind/wire';
import { EpisodeTally, makeWorld, percentile, withinRadius, type BatchedWorld } from '@fleetmind/worlds';
import { absenceNotices, FaultEngine, standbyNotice, type FaultEvent } from '../faults/fault-engine.js';
import type { FaultKind } from '../faults/fault-plan.js';
import { addSnapshots, createMember, type FleetMember, type FleetMode } from './fleet-member.js';
import { ActionCollector } from './action-collector.js';
import { AgentFaults } from './agent-faults.js';
import { HeartbeatWatch } from './heartbeat-watch.js';
import { SimNetwork, type MessageCounts } from './sim-network.js';
import { nearestPeers } from './nearest-peers.js';
import { LoopStallWatch } from './loop-stall-watch.js';
import { brokerChoice, checkPlanFitsMode, checkPlanFitsRun, checkShardable, defaultSimAgentSettings, defaultSimOptions, SimError, type SimOptions } from './sim-options.js';
import { LOCKSTEP_OBSERVATION_MAX_AGE_MS, LOCKSTEP_TICK_BUDGET_MS, ROLLOUT_LOCKSTEP_MIN_TICK_MS, SHARDED_LOCKSTEP_ROUND_DEADLINE_MS } from './lockstep-timing.js';
import { LocalShards, shardAgents, ShardMember, WorldLink } from './fleet-shards.js';
import type { FleetRunReport } from './serve-fleet.js';
import { SimRollout, type SimRolloutReport } from './sim-rollout.js';

export { SimError } from './sim-options.js';
export type { SimOptions } from './sim-options.js';

export interface TickTrace {
  episode: number;
  tick: number;
  agents: number[][];
  landmarks: number[][];
  actions: number[];
  /** null: no action arrived (held), or the agent is not in the episode now */
  tiers: (Tier | null)[];
  /** per agent, whether it is in the episode now (a car on the road): the replay draws only these */
  active: boolean[];
  /** per agent, the peers heard in the last round (in-process agents only) */
  heard: string[][] | null;
  /** per agent, the rounds that closed at their deadline with a live peer unheard (in-process agents only) */
  lateRounds: number[] | null;
  /** real time: the longest the simulator's event loop (and in-process agents with it) was blocked this tick, ms; lockstep: null */
  stallMs: number | null;
  reward: number;
  faults: FaultEvent[];
}

export interface SimReport {
  /** episodes played: fewer than asked when the run was interrupted (then `partial`) */
  episodes: number;
  /** true: interrupted (Ctrl-C) before every episode asked for was played */
  partial: boolean;
  seed: number;
  agent_return_mean: number;
  team_return_mean: number;
  episode_team_returns: number[];
  outcomes: Record<string, number>;
  /** per info key, each episode's value at its last step */
  episode_outcomes_final: Record<string, number[]>;
  /** per info key, each episode's values summed */
  episode_outcomes_total: Record<string, number[]>;
  /** agents that crashed at least once */
  crashed_agents: string[];
  tick_ms: { p50: number; p99: number };
  tiers: Record<Tier, number>;
  /** actions that did not arrive in time (replaced as missing_action says) */
  missing_actions: number;
  /**
   * of those, actions from agents that were running and asked (not crashed or frozen): too slow
   * for the timeout or the period — a run where many are late measured the clock, not the policy
   */
  late_actions: number;
  /** agent-ticks in which a running agent was asked for an action */
  asked_actions: number;
  /**
   * real time: the longest the simulator's own event loop was blocked in a tick, ms (sampled every
   * 10 ms). In-process agents share that loop: a stall near the period makes actions late that
   * measured the host, not the policy. Null in lockstep
   */
  host_stall_ms_max: number | null;
  missing_action: 'safe' | 'hold';
  /** delivered: null where the shards that counted it run elsewhere (sim --shards elsewhere) */
  /**
   * peer messages: sent (every one published, abstentions and chosen silences included), of them
   * empty (no message: abstentions, wire 1.3, and a gated policy's silences, 1.6), and per agent
   * per tick the messages that carried one and the bytes of all
   */
  /** out_of_range: messages lost because the receiver was beyond the bundle's communication radius (radio range), not counted as dropped */
  messages: { sent: number; empty: number; delivered: number | null; dropped: number; out_of_range: number; per_agent_tick: number; bytes_per_agent_tick: number };
  faults_applied: Partial<Record<FaultKind, number>>;
  /** the agents' own counters summed over the fleet (refusals by reason, deadline misses, safe actions by reason); in-process agents only */
  agent_counters: AgentSnapshot | null;
  mode: FleetMode;
  /** the agents' shards (sim --shards), or null: one process */
  shards: number | 'elsewhere' | null;
  /** sim --shards K: what each shard process reported — its agents, CPU time from its first observation, decisions, its agents' counters */
  shard_reports?: { agents: string[]; cpu_s: number; decisions: number; agent_counters: AgentSnapshot | null }[] | null;
  /** null: lockstep (simulated time: deterministic but for the wall-clock tick_ms); else real time at this rate */
  hz: number | null;
  broker: string;
  /**
   * how the agents reached the broker: each through its link proxy (where faults act and the run's
   * notices are told), or directly, where nothing needed the links (no faults, no agents that come
   * and go, the embedded broker): the same messages, counted by the broker
   */
  agent_links: 'proxies' | 'direct';
  agents: string[];
  trace?: TickTrace[];
  /** sim --rollout: the rollout's stages, gates and versions over time */
  rollout?: SimRolloutReport | null;
}

export async function simulate(o: SimOptions): Promise<SimReport> {
  const mode = o.mode ?? defaultSimOptions.mode;
  checkPlanFitsMode(o.faults ?? null, mode);
  const ownsBundle = typeof o.bundle === 'string';
  const bundle = typeof o.bundle === 'string' ? await loadBundle(o.bundle) : o.bundle;
  // unique on a shared broker, and always 12 characters: the fleet id travels in every message,
  // so a length that varied (with the pid, say) would vary the bytes a lockstep run reports
  const fleet = o.fleet ?? `sim-${randomBytes(4).toString('hex')}`;
  const probe = makeWorld(bundle.manifest.world.id, { config: bundle.manifest.world.config });
  const ids = [...probe.possibleAgents];
  const shards = o.shards ?? null;
  if (shards !== null) checkShardable(o, shards);
  checkPlanFitsRun(o.faults ?? null, { world: probe.id, maxTicks: probe.maxCycles, episodes: o.episodes });
  for (const id of ids) bundle.agent(id); // every agent of the world must be in the bundle
  const comm = bundle.manifest.communication;
  // a policy trained hearing only teammates within a distance hears only them here: the network
  // loses what a peer beyond it sent (radio range), as training's mask did
  const radius = comm?.trained.comm_radius ?? null;
  if (radius !== null && shards !== null) throw new SimError(`--shards: the bundle hears only teammates within ${radius} (its communication.trained.comm_radius), and radio range is applied on the agents' links here, which shards do not use; run it without --shards`);
  // lockstep runs on simulated time: the network tells receivers what it lost (deterministic rounds),
  // and the wall clock only guards against a hang (lockstep-timing.ts)
  const logical = !o.hz;
  // a rollout's health gates read the agents' status counters: ten a second, not one
  const settings: AgentSettingsInput = {
    ...defaultSimAgentSettings, ...(logical ? { lostNotices: true, tickBudgetMs: LOCKSTEP_TICK_BUDGET_MS, maxObservationAgeMs: LOCKSTEP_OBSERVATION_MAX_AGE_MS } : {}), ...(o.rollout ? { statusMs: 100 } : {}),
    // shards hear their peers over a real broker, and no simulated network tells them what it lost:
    // in lockstep a round waits as long as a lockstep tick may take for a message that will come
    ...(shards !== null ? { lostNotices: false, ...(logical ? { roundDeadlineMs: SHARDED_LOCKSTEP_ROUND_DEADLINE_MS } : {}) } : {}),
    ...o.agent,
    ...(o.record ? { record: { dir: o.record } } : {}),
  };
  const engine = o.faults || radius !== null ? new FaultEngine(o.faults ?? { faults: [] }, ids, o.seed, {
    message: comm && { size: comm.message_size, quantization: comm.quantization, rounds: comm.rounds },
    logical: logical && settings.lostNotices ? { roundDeadlineMs: settings.roundDeadlineMs ?? defaultSimAgentSettings.roundDeadlineMs! } : null,
  }) : null;
  const choice = brokerChoice(o.broker);
  if (o.auth && choice.kind === 'external') throw new SimError('auth: the run makes its users for the embedded broker; an external broker has its own');
  // a size-agnostic policy in a fleet larger than its inbox: each agent hears its k nearest
  const nearest = comm && bundle.manifest.roles.length === 1
    ? nearestPeers(makeWorld(bundle.manifest.world.id, { numEnvs: 1, config: bundle.manifest.world.config }), comm.inbox_capacity, o.seed)
    : null;
  const peersOf = (id: string) => nearest?.get(id) ?? bundle.agent(id).role.spec.agents.filter((a) => a !== id);
  if (shards === 'elsewhere' && ids.some((id) => String(peersOf(id)) !== String(bundle.agent(id).role.spec.agents.filter((a) => a !== id)))) {
    throw new SimError(`--shards elsewhere: each of these ${ids.length} agents hears its ${comm!.inbox_capacity} nearest, and \`fleetmind fleet\` gives its agents their whole team; run the shards here (--shards K)`);
  }
  const network = new SimNetwork(choice, fleet, engine, o.brokerDrainTimeoutMs ?? defaultSimOptions.brokerDrainTimeoutMs);
  const members = new Map<string, FleetMember>();
  if (o.rollout && o.rollout.strategy.gates.min_retained !== null && !o.rollout.baseline) throw new SimError('the min_retained gate needs the nominal run\'s returns: fleetmind sim --rollout plays one first (a campaign), or pass rollout.baseline');
  const rollout = o.rollout ? new SimRollout(o.rollout, ids) : null;
  let watch: HeartbeatWatch | null = null;
  let groundTruth: FlightRecorder | null = null;
  let world: WorldLink | null = null;
  let shardReports: SimReport['shard_reports'] = null;
  const localShards = typeof shards === 'number' ? new LocalShards() : null;
  let played = false;
  try {
    // a sharded fleet's agents have no link proxies here: they connect from their shards; a run
    // whose agents come and go tells their peers so on their links
    await network.start(shards === null ? ids : [], o.auth ?? false, Boolean(rollout), probe.comesAndGoes && Boolean(settings.lostNotices), shards !== null);
    watch = await HeartbeatWatch.connect(network.url, fleet, network.credentialsOf('world'), o.brokerConnectTimeoutMs ?? defaultSimOptions.brokerConnectTimeoutMs);
    const collector = new ActionCollector();
    const lastRounds = new Map<string, LastRounds>();
    if (shards !== null) {
      world = await WorldLink.connect(network.url, fleet, (agent, action) => collector.onAction(agent, action), shards === 'elsewhere', o.brokerConnectTimeoutMs ?? defaultSimOptions.brokerConnectTimeoutMs, network.credentialsOf('world'));
      const hosts = network.credentialsOf('shards');
      for (const id of ids) members.set(id, new ShardMember(id, world));
      await localShards?.start(Array.from({ length: shards as number }, (_, k) => {
        const agents = shardAgents(ids, shards as number, k);
        return { bundle: bundle.dir, broker: network.url, fleet, agents, peers: Object.fromEntries(agents.map((id) => [id, peersOf(id)])), agent: settings, ...(hosts ? { username: hosts.username } : {}) };
      }), hosts?.password);
    }
    for (const id of shards === null ? ids : []) {
      members.set(id, createMember(mode, {
        id, bundle, fleet, brokerUrl: network.agentUrl(id), settings: { ...settings, peers: peersOf(id) }, credentials: network.credentialsOf(id),
        onAction: (agent, action) => collector.onAction(agent, action),
        onTick: (agent, r: TickRecord) => lastRounds.set(agent, { heard: r.heard.at(-1) ?? [], late: r.lateRounds }),
        bundleStore: rollout?.store(id),
      }));
    }
    await Promise.all([...members.values()].map((m) => m.start()));
    await watch.untilAllHeard(ids, o.onlineTimeoutMs ?? defaultSimOptions.onlineTimeoutMs);
    await rollout?.start(network.url, fleet, network.credentialsOf('operator'));
    const faults = engine ? new AgentFaults(engine, members, network) : null;
    // uncompressed: the HTML report's replay reads it in the browser, which has no zstd
    groundTruth = o.record ? await FlightRecorder.open({ dir: o.record, prefix: 'world', compression: 'none' }, {
      kind: 'world', world: bundle.manifest.world.id, world_config: JSON.stringify(bundle.manifest.world.config), bundle: bundle.manifest.name,
      bundle_version: bundle.manifest.version, fleet, seed: String(o.seed), episodes: String(o.episodes), faults: JSON.stringify(o.faults ?? null),
      clock: o.hz ? `${o.hz} Hz` : 'lockstep',
    }) : null;
    // real time: the world each tick on fm/<fleet>/world, for dashboards (lockstep runs stay quiet)
    const liveWorld = o.hz ? watch : null;
    const publishWorld = liveWorld && ((r: WorldStepRecord) => liveWorld.publish(fleetTopic(fleet, 'world'), encodeWorldStepRecord(r)));
    // a sharded run's messages: as the shards here counted them (they report when the world tells
    // them to stop); shards elsewhere report to no one here, so the world counts what they publish
    const finishShards = world && (async (): Promise<ShardCounts> => {
      await world!.stopShards();
      const reports = localShards ? await localShards.finish() : null;
      shardReports = reports?.map((r) => ({ agents: r.agents, cpu_s: r.cpu_s, decisions: r.answered, agent_counters: r.agent_counters })) ?? null;
      if (!reports) return { sent: world!.published.messages, bytes: world!.published.bytes, empty: world!.published.empty, delivered: null };
      const sum = (count: (r: FleetRunReport) => number) => reports.reduce((total, r) => total + count(r), 0);
      return { sent: sum((r) => r.messages.sent), bytes: sum((r) => r.messages.bytes), empty: sum((r) => r.messages.empty), delivered: sum((r) => r.messages.delivered) };
    });
    const report = await playEpisodes(o, { bundle, ids, mode, members, engine, faults, collector, network, lastRounds, fleet, lostNotices: Boolean(settings.lostNotices), peersOf, groundTruth, publishWorld, rollout, finishShards, radius });
    if (rollout) report.rollout = await rollout.finish();
    if (shardReports) report.shard_reports = shardReports;
    played = true;
    return report;
  } finally {
    // everything is stopped whatever failed; a failure to stop is said, unless an earlier error is on its way
    const stops = await Promise.allSettled([...members.values()].map((m) => m.stop()));
    // a run that failed or was interrupted still stops its shards, here and elsewhere
    await world?.stopShards().catch(() => {});
    localShards?.kill();
    await world?.close();
    await groundTruth?.close();
    await rollout?.close();
    watch?.close();
    await network.close();
    if (ownsBundle) await bundle.close();
    const failed = stops.flatMap((s, i) => (s.status === 'rejected' ? [`${[...members.keys()][i]}: ${(s.reason as Error).message}`] : []));
    if (played && failed.length > 0) throw new SimError(`the run finished but agents did not stop cleanly: ${failed.join('; ')}`);
  }
}

/** An in-process agent's rounds this tick: whom it heard in the last, and how many closed at their deadline. */
interface LastRounds {
  heard: string[];
  late: number;
}

interface Fleet {
  bundle: LoadedBundle;
  ids: string[];
  mode: FleetMode;
  members: ReadonlyMap<string, FleetMember>;
  engine: FaultEngine | null;
  faults: AgentFaults | null;
  collector: ActionCollector;
  network: SimNetwork;
  /** in-process agents: how each one's rounds went this tick */
  lastRounds: Map<string, LastRounds>;
  fleet: string;
  /** lockstep: the agents take LostNotices, so the absent ones must be announced every tick */
  lostNotices: boolean;
  peersOf: (id: string) => string[];
  /** sim --record: the world's side of the recording */
  groundTruth: FlightRecorder | null;
  /** real time: the world's state each tick for dashboards */
  publishWorld: ((record: WorldStepRecord) => void) | null;
  /** sim --rollout: told each tick, to follow the agents' versions */
  rollout: SimRollout | null;
  /** sim --shards: stops the shards and sums the messages they counted */
  finishShards: (() => Promise<ShardCounts>) | null;
  /** radio range: the bundle's communication radius, or null where every peer is heard */
  radius: number | null;
}

/** this tick's links (`sender->receiver`) between agents in the episode that are out of each other's radius */
function outOfRange(world: BatchedWorld, slotOf: ReadonlyMap<string, number>, want: ReadonlySet<string>, peersOf: (id: string) => string[], radius: number): Set<string> {
  const where = world.positions(0);
  if (!where) throw new SimError(`${world.id} has no positions: a bundle trained with a communication radius needs a world where agents have them`);
  const links = new Set<string>();
  for (const receiver of want) {
    const [rx, ry] = where.agents[slotOf.get(receiver)!];
    for (const sender of peersOf(receiver)) {
      if (!want.has(sender)) continue;
      const [sx, sy] = where.agents[slotOf.get(sender)!];
      if (!withinRadius(rx, ry, sx, sy, radius)) links.add(`${sender}->${receiver}`);
    }
  }
  return links;
}

/** a sharded run's message counts (delivered: null where shards elsewhere counted it) */
type ShardCounts = Omit<MessageCounts, 'delivered'> & { delivered: number | null };

async function playEpisodes(o: SimOptions, f: Fleet): Promise<SimReport> {
  const { ids, members, engine, collector } = f;
  const m = f.bundle.manifest;
  const world = makeWorld(m.world.id, { numEnvs: 1, autoReset: false, config: o.shield ? { ...m.world.config, shield: o.shield } : m.world.config });
  const n = ids.length;
  /** each agent's slot in the world's arrays (radio range looks its positions up every tick) */
  const slotOf = new Map(ids.map((id, i) => [id, i]));
  const rounds = m.communication?.rounds ?? 0;
  const tally = new EpisodeTally(world, o.seed, o.episodes);
  // each agent's action in the world's array: one index, or a vector of `width` (continuous)
  const width = tally.actions.length / n;
  const safe = ids.map((id) => {
    const s = f.bundle.agent(id).role.spec.safe_action;
    return typeof s === 'number' ? [s] : s;
  });
  const put = (i: number, action: ArrayLike<number>) => { for (let d = 0; d < width; d++) actions[i * width + d] = action[d]; };
  const tiers: Record<Tier, number> = { full: 0, partial: 0, none: 0, safe: 0 };
  let missing = 0;
  let late = 0;
  let asked = 0;
  let agentTicks = 0;
  /** ticks since the run began: what agents see (theirs must only increase) */
  let globalTick = 0;
  const trace: TickTrace[] = [];
  const actions = tally.actions;
  const realTime = Boolean(o.hz);
  const timeoutMs = o.hz ? 1000 / o.hz : (o.tickTimeoutMs ?? defaultSimOptions.tickTimeoutMs);
  const stalls = realTime ? new LoopStallWatch() : null;
  let played = 0;
  for (let episode = 0; episode < o.episodes; episode++) {
    if (o.signal?.aborted) break; // between episodes: every episode reported was played whole
    let observations = world.reset(o.seed, episode).observations;
    const episodeStartedMs = performance.now();
    safe.forEach((action, i) => put(i, action));
    const wasInEpisode = new Uint8Array(n);
    for (let t = 0; ; t++) {
      const tickStartedMs = performance.now();
      stalls?.startTick();
      globalTick++;
      engine?.setClock(episode, t);
      f.rollout?.observe(globalTick, episode);
      const firstEvent = engine?.events.length ?? 0; // this tick's faults are logged from here on
      await f.faults?.apply(globalTick);
      // crashed and frozen agents cannot answer: their actuators hold (not waited for, counted missing);
      // agents not in the episode now (not arrived yet, or left) are not asked and not missed
      const frozen = f.faults?.frozen();
      const inEpisode = (i: number) => world.active[i] === 1;
      const want = new Set(ids.filter((id, i) => inEpisode(i) && members.get(id)!.running && !frozen?.has(id)));
      // an agent that has just left (or not arrived) says so to its peers, who then stop waiting for it
      // (in lockstep its peers are handed its standby heartbeat before this tick's observations: no race with the broker)
      ids.forEach((id, i) => {
        if (!inEpisode(i) && (t === 0 || wasInEpisode[i])) {
          members.get(id)!.standby();
          if (f.lostNotices && rounds > 0) for (const receiver of ids) if (receiver !== id && f.peersOf(receiver).includes(id)) f.network.tell(receiver, [standbyNotice(f.fleet, id, globalTick)]);
        }
        wasInEpisode[i] = inEpisode(i) ? 1 : 0;
      });
      asked += want.size;
      const announceAbsent = (absent: string) => {
        const notices = absenceNotices(f.fleet, absent, globalTick, episode + 1, rounds);
        for (const receiver of want) if (f.peersOf(receiver).includes(absent)) f.network.tell(receiver, notices);
      };
      // an agent that is down or frozen sends nothing this tick: its peers are told, not left to time out
      if (f.lostNotices && rounds > 0) for (const absent of ids.filter((id) => !want.has(id))) announceAbsent(absent);
      if (f.radius !== null) engine!.setRange(globalTick, outOfRange(world, slotOf, want, f.peersOf, f.radius));
      f.lastRounds.clear();
      const got = await collector.collect(globalTick, want, (id) => {
        const values = observations[ids.indexOf(id)].slice();
        // (an agent that takes the safe action on a non-finite observation abstains itself: wire 1.3)
        const seen = engine ? engine.observe(id, values) : values;
        // agents are told the episode, numbered from 1 (0 on the wire says the world has none): a policy
        // that keeps state forgets at each one, as in training, and a robot back from standby in a
        // later episode finds its peers' messages for the tick it rejoins at (round-inbox.ts)
        members.get(id)!.observe({ tick: globalTick, values: seen, episode: episode + 1 });
      }, timeoutMs, realTime);
      const stallMs = stalls ? stalls.tickStallMs() : null;
      const tickTiers = ids.map((id, i) => {
        const a = got.get(id);
        if (!inEpisode(i)) {
          put(i, safe[i]); // the world ignores it
          return null;
        }
        if (!a) {
          missing++;
          if (want.has(id)) late++;
          if (o.missingAction !== 'hold') put(i, safe[i]); // else the agent's action keeps the previous command
          return null;
        }
        put(i, a.vector ?? [a.action]);
        tiers[a.tier]++;
        return a.tier;
      });
      agentTicks += ids.filter((_, i) => inEpisode(i)).length;
      // (a world without positions is traced and recorded without them)
      const snap = o.trace || f.groundTruth || f.publishWorld ? world.positions(0) ?? { agents: [], others: [] } : null;
      const activeNow = snap ? ids.map((_, i) => inEpisode(i)) : null;
      const r = world.step(actions);
      const ended = tally.recordEnv(r, 0, episode);
      if ((f.groundTruth || f.publishWorld) && snap) {
        const truth: WorldStepRecord = {
          episode, tick: globalTick, agents: ids, positions: Float32Array.from([...snap.agents, ...snap.others].flat()),
          rewards: Array.from(r.rewards.subarray(0, n)), faults: (engine?.events.slice(firstEvent) ?? []).map((e) => `${e.kind} ${e.target}`),
          active: activeNow!,
        };
        f.groundTruth?.world(truth, Date.now() * 1000);
        f.publishWorld?.(truth);
      }
      if (snap && o.trace) {
        const inproc = f.mode === 'inproc' && !f.finishShards;
        let reward = 0;
        for (let i = 0; i < n; i++) reward += r.rewards[i];
        trace.push({
          episode, tick: t, agents: snap.agents.map((p) => [...p]), landmarks: snap.others.map((p) => [...p]),
          actions: Array.from(actions), tiers: tickTiers, active: activeNow!, heard: inproc ? ids.map((id) => f.lastRounds.get(id)?.heard ?? []) : null,
          lateRounds: inproc ? ids.map((id) => f.lastRounds.get(id)?.late ?? 0) : null,
          stallMs, reward, faults: engine ? engine.events.slice(firstEvent) : [],
        });
      }
      observations = r.observations;
      if (f.rollout && !realTime && !f.rollout.settled) {
        const rest = ROLLOUT_LOCKSTEP_MIN_TICK_MS - (performance.now() - tickStartedMs);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
      if (ended) break;
    }
    f.rollout?.episodeEnded(episode, episodeStartedMs, tally.teamReturn(episode));
    played++;
    o.onProgress?.(episode + 1, o.episodes);
  }
  stalls?.stop();
  const evaluation = tally.report(played);
  const latency = (q: number) => (collector.latencies.length ? Number(percentile(collector.latencies, q).toFixed(3)) : 0);
  const applied = engine?.applied ?? {};
  const dropped = (applied.drop ?? 0) + (applied.burst_drop ?? 0) + (applied.partition ?? 0);
  const counts: ShardCounts = f.finishShards ? await f.finishShards() : f.network.counts;
  return {
    episodes: played,
    partial: played < o.episodes,
    seed: o.seed,
    agent_return_mean: evaluation.agent_return_mean,
    team_return_mean: evaluation.team_return_mean,
    episode_team_returns: evaluation.episode_team_returns,
    outcomes: evaluation.outcomes,
    episode_outcomes_final: tally.episodeFinals(played),
    episode_outcomes_total: tally.episodeTotals(played),
    crashed_agents: [...new Set((engine?.events ?? []).filter((e) => e.kind === 'crash' && ids.includes(e.target)).map((e) => e.target))],
    tick_ms: { p50: latency(0.5), p99: latency(0.99) },
    tiers,
    missing_actions: missing,
    late_actions: late,
    asked_actions: asked,
    host_stall_ms_max: stalls ? stalls.longestMs : null,
    missing_action: o.missingAction ?? defaultSimOptions.missingAction,
    messages: {
      sent: counts.sent, empty: counts.empty, delivered: counts.delivered, dropped, out_of_range: engine?.outOfRange ?? 0,
      per_agent_tick: Number(((counts.sent - counts.empty) / Math.max(1, agentTicks)).toFixed(3)),
      bytes_per_agent_tick: Number((counts.bytes / Math.max(1, agentTicks)).toFixed(1)),
    },
    faults_applied: { ...applied },
    agent_counters: f.mode === 'inproc' && !f.finishShards ? [...members.values()].map((member) => member.counters()!).reduce(addSnapshots) : null,
    mode: f.mode,
    shards: o.shards ?? null,
    hz: o.hz ?? null,
    broker: brokerChoice(o.broker).kind === 'embedded' ? 'embedded' : o.broker!,
    agent_links: f.network.directLinks ? 'direct' : 'proxies',
    agents: ids,
    ...(o.trace ? { trace } : {}),
  };
}
