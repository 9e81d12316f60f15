// A fleet without a world: `fleetmind fleet` starts a bundle's runtime agents, each behind its
// own link proxy with the fault plan acting exactly as in `fleetmind sim`, and leaves the world
// to the user's simulator, which speaks the wire contract (docs/wire-contract.md):
//
//   simulator → fm/<fleet>/a/<agent>/obs   Observation (tick, values, sent_us, episode)
//   fleet     → fm/<fleet>/a/<agent>/act   Action
//   simulator → fm/<fleet>/world           WorldStepRecord (optional: rewards, for returns)
//   anyone    → fm/<fleet>/ctl             Control {command: "stop"} ends the run
//
// The fleet's bridge reads the observations off the broker, moves the fault engine's clock to
// the simulator's (episode, tick) — fault windows are in its episodes and ticks — applies the
// sensor faults, hands each agent its observation, and publishes the action the agent decides.
// It counts what a vendor needs to trust the fleet: every observation answered exactly once, the
// tiers, observation-to-action latency, messages and the faults that struck.

import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import { loadBundle } from '@fleetmind/models';
import { batchedInference, sharedConnections, type ActionOut, type AgentSettingsInput, type AgentSnapshot } from '@fleetmind/runtime';
import { agentTopic, decodeControl, decodeObservation, decodeWorldStepRecord, encodeAction, fleetTopic, type Tier } from '@fleetmind/wire';
import { percentile } from '@fleetmind/worlds';
import { FaultEngine } from '../faults/fault-engine.js';
import type { FaultKind, FaultPlan } from '../faults/fault-plan.js';
import { AgentFaults } from './agent-faults.js';
import { addSnapshots, createMember, type FleetMember, type FleetMode } from './fleet-member.js';
import { HeartbeatWatch } from './heartbeat-watch.js';
import { SimNetwork } from './sim-network.js';
import { brokerChoice, checkPlanFitsMode, defaultSimAgentSettings, defaultSimOptions, SimError } from './sim-options.js';

export interface FleetRunOptions {
  bundle: string;
  /** 'embedded': the fleetmind broker on a free loopback port (its URL is in onReady); else the broker the simulator uses */
  broker: 'embedded' | string;
  fleet: string;
  /** a shard: only these of the bundle's agents run here (their peers run elsewhere, on the same broker or its cluster); default all */
  agents?: string[];
  /** whom each agent hears (a size-agnostic policy's k nearest); default its role's team */
  peers?: Record<string, string[]>;
  faults?: FaultPlan | null;
  mode?: FleetMode;
  /** the fault engine's random streams */
  seed?: number;
  /** the agents' settings over the fleet's defaults (a robot's, but 50 ms rounds) */
  agent?: AgentSettingsInput;
  /**
   * a broker with users: a user of role fleet (`fleetmind broker user add --role fleet`), which may
   * publish what an agent publishes for any agent of its fleet; the agents, the bridge that
   * publishes their actions and the heartbeat watch all connect as it
   */
  credentials?: { username: string; password: string };
  /** stop after this many of the simulator's ticks (null: until stopped) */
  ticks?: number | null;
  /** aborted: stop (Ctrl-C) */
  signal?: AbortSignal;
  onReady?: (info: { broker: string; fleet: string; agents: string[] }) => void;
  /** per-agent (default): each agent its own MQTT connection, as robots have; shared: one for the process (--mode inproc) */
  connections?: 'per-agent' | 'shared';
  /** per-agent (default): each agent its own ONNX Runtime calls; batched: the calls of one turn as one batch (--mode inproc, discrete policies) */
  inference?: 'per-agent' | 'batched';
}

export interface FleetRunReport {
  fleet: string;
  broker: string;
  mode: FleetMode;
  connections: 'per-agent' | 'shared';
  inference: 'per-agent' | 'batched';
  agents: string[];
  /** the simulator's ticks seen (distinct (episode, tick)) and episodes */
  ticks: number;
  episodes: number;
  observations: number;
  /** observations handed to a running agent, and those answered; unanswered ones at the end are counted, never hidden */
  asked: number;
  answered: number;
  unanswered: number;
  /** asked, but their agent crashed or froze (by the plan) before it answered */
  lost_with_agent: number;
  /** observations no agent was asked about: crashed or frozen (by the plan), or not for an agent of the bundle */
  not_asked: { agent_down: number; unknown_agent: number; undecodable: number };
  tiers: Record<Tier, number>;
  /** observation (as the bridge read it) to action (as the bridge published it), ms */
  tick_ms: { p50: number; p99: number };
  /** peer messages the agents sent, and those delivered to their links (with connections shared: to the one link, once per message) */
  messages: { sent: number; delivered: number; bytes: number; empty: number };
  faults_applied: Partial<Record<FaultKind, number>>;
  /** the agents' own counters summed over the fleet (in-process agents only) */
  agent_counters: AgentSnapshot | null;
  /** from the simulator's WorldStepRecords, when it publishes them: each episode's team return, in order */
  episode_team_returns: number[];
  /** this process's CPU time from the first observation to the end, s (a shard's cost) */
  cpu_s: number;
}

export async function runFleet(o: FleetRunOptions): Promise<FleetRunReport> {
  const mode = o.mode ?? 'inproc';
  checkPlanFitsMode(o.faults ?? null, mode);
  const connections = o.connections ?? 'per-agent';
  const inference = o.inference ?? 'per-agent';
  if (mode !== 'inproc' && (connections === 'shared' || inference === 'batched')) throw new SimError(`${connections === 'shared' ? 'shared connections' : 'batched inference'} need --mode inproc: agents in other threads or processes share nothing with each other`);
  if (connections === 'shared' && o.faults) throw new SimError('--connections shared: a fault plan acts on each agent\'s own link, and shared agents have one; use --connections per-agent with --faults');
  if (inference === 'batched' && o.faults?.faults.some((f) => f.kind === 'slow_inference')) throw new SimError('slow_inference slows one agent\'s graph calls: with batched inference its calls are its neighbours\' too; use --inference per-agent');
  const bundle = await loadBundle(o.bundle);
  const all = bundle.manifest.roles.flatMap((r) => r.agents);
  const unknown = (o.agents ?? []).filter((id) => !all.includes(id));
  if (unknown.length > 0) {
    await bundle.close();
    throw new SimError(`the bundle has no agent ${unknown.join(', ')} (its agents: ${all.join(', ')})`);
  }
  const ids = o.agents ? all.filter((id) => o.agents!.includes(id)) : all;
  const comm = bundle.manifest.communication;
  // real time: rounds end at their deadline, never on a simulator's notices
  const settings: AgentSettingsInput = { ...defaultSimAgentSettings, ...o.agent, lostNotices: false };
  const engine = o.faults ? new FaultEngine(o.faults, ids, o.seed ?? 0, { message: comm && { size: comm.message_size, quantization: comm.quantization, rounds: comm.rounds }, logical: null }) : null;
  const network = new SimNetwork(brokerChoice(o.broker), o.fleet, engine, defaultSimOptions.brokerDrainTimeoutMs);
  const members = new Map<string, FleetMember>();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const tiers: Record<Tier, number> = { full: 0, partial: 0, none: 0, safe: 0 };
  const notAsked = { agent_down: 0, unknown_agent: 0, undecodable: 0 };
  const returns = new Map<number, number>();
  let observations = 0;
  let asked = 0;
  let answered = 0;
  let ticks = 0;
  let lostWithAgent = 0;
  let cpuFrom: NodeJS.CpuUsage | null = null;
  const episodes = new Set<number>();
  let bridge: MqttClient | null = null;
  let watch: HeartbeatWatch | null = null;
  const sharedLinks = connections === 'shared' ? sharedConnections(o.credentials?.username ?? `${o.fleet}-agents`) : null;
  try {
    // a fleet tells its agents nothing itself; agents on one shared connection share one link
    await network.start(ids, false, false, false, false, connections === 'shared');
    watch = await HeartbeatWatch.connect(network.url, o.fleet, o.credentials, defaultSimOptions.brokerConnectTimeoutMs);
    // one bridge per shard: the client id names its agents' first (two bridges with one id would take turns on the broker)
    const bridgeId = `${o.credentials ? `${o.credentials.username}:` : `${o.fleet}-`}fleet-bridge${o.agents ? `-${ids[0]}` : ''}`;
    bridge = mqttConnect(network.url, { clientId: bridgeId, reconnectPeriod: 200, ...o.credentials });
    await new Promise<void>((resolve, reject) => {
      bridge!.once('connect', () => { (bridge!.stream as unknown as Socket).setNoDelay?.(true); resolve(); });
      bridge!.once('error', (err) => reject(new SimError(`the fleet's bridge cannot reach the broker at ${network.url}: ${err.message}`)));
    });
    const client = bridge;
    const onAction = (id: string, a: ActionOut) => {
      const key = `${id}:${a.tick}`;
      const sent = sentAt.get(key);
      if (sent === undefined) return; // not an observation of this run's (a late one of an earlier life)
      sentAt.delete(key);
      latencies.push(performance.now() - sent);
      answered++;
      tiers[a.tier]++;
      client.publish(agentTopic(o.fleet, id, 'act'), Buffer.from(encodeAction(a)), { qos: 0 });
    };
    // shared connections are keyed by URL: with --connections shared every agent's URL is the one link's
    const shared = {
      ...(sharedLinks ? { transport: sharedLinks.transport } : {}),
      ...(inference === 'batched' ? { policy: batchedInference() } : {}),
    };
    for (const id of ids) {
      members.set(id, createMember(mode, {
        id, bundle, fleet: o.fleet, brokerUrl: network.agentUrl(id), settings: { ...settings, peers: o.peers?.[id] ?? bundle.agent(id).role.spec.agents.filter((a) => a !== id) },
        credentials: o.credentials, onAction, shared,
      }));
    }
    await Promise.all([...members.values()].map((m) => m.start()));
    await watch.untilAllHeard(ids, defaultSimOptions.onlineTimeoutMs);
    const faults = engine ? new AgentFaults(engine, members, network) : null;

    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => { stop = resolve; });
    o.signal?.addEventListener('abort', () => stop(), { once: true });
    let clock: string | null = null;
    // observations are handled one at a time, in arrival order: a new tick's faults strike first
    let chain = Promise.resolve();
    const onObservation = async (id: string, payload: Uint8Array) => {
      observations++;
      cpuFrom ??= process.cpuUsage();
      const member = members.get(id);
      if (!member) { notAsked.unknown_agent++; return; }
      let obs;
      try {
        obs = decodeObservation(payload);
      } catch {
        notAsked.undecodable++;
        return;
      }
      const episode = obs.episode ?? 0;
      const key = `${episode}:${obs.tick}`;
      if (key !== clock) {
        clock = key;
        ticks++;
        episodes.add(episode);
        engine?.setClock(episode, obs.tick);
        await faults?.apply(ticks);
        // what a crashed or frozen agent was asked will not be answered: counted as such
        const frozen = faults?.frozen();
        for (const pending of [...sentAt.keys()]) {
          const agent = pending.slice(0, pending.lastIndexOf(':'));
          if (!members.get(agent)!.running || frozen?.has(agent)) { sentAt.delete(pending); lostWithAgent++; }
        }
        if (o.ticks && ticks > o.ticks) { stop(); return; }
      }
      if (!member.running || faults?.frozen().has(id)) { notAsked.agent_down++; return; }
      const values = engine ? engine.observe(id, obs.values) : obs.values;
      sentAt.set(`${id}:${obs.tick}`, performance.now());
      asked++;
      member.observe({ tick: obs.tick, values, sentUs: obs.sentUs, ...(obs.episode ? { episode: obs.episode } : {}) });
    };
    const obsTopic = new RegExp(`^fm/${o.fleet.replace(/[.]/g, '\\.')}/a/([^/]+)/obs$`);
    client.on('message', (topic, payload) => {
      const m = obsTopic.exec(topic);
      if (m) { chain = chain.then(() => onObservation(m[1], payload)); return; }
      if (topic === fleetTopic(o.fleet, 'ctl')) {
        try {
          if (decodeControl(payload).command === 'stop') stop();
        } catch { /* someone else's control message: not ours to judge */ }
        return;
      }
      try {
        const step = decodeWorldStepRecord(payload);
        returns.set(step.episode, (returns.get(step.episode) ?? 0) + step.rewards.reduce((a, b) => a + b, 0));
      } catch { /* a malformed world record carries no return */ }
    });
    // a shard reads its own agents' observations only
    const observationTopics = o.agents ? ids.map((id) => agentTopic(o.fleet, id, 'obs')) : [`fm/${o.fleet}/a/+/obs`];
    await client.subscribeAsync([...observationTopics, fleetTopic(o.fleet, 'ctl'), fleetTopic(o.fleet, 'world')]);
    o.onReady?.({ broker: network.url, fleet: o.fleet, agents: ids });
    await stopped;
    await chain;
    const unanswered = sentAt.size;
    const latency = (q: number) => (latencies.length ? Number(percentile(latencies, q).toFixed(3)) : 0);
    return {
      fleet: o.fleet, broker: o.broker === 'embedded' ? 'embedded' : o.broker, mode, connections, inference, agents: ids,
      ticks, episodes: episodes.size, observations, asked, answered, unanswered, lost_with_agent: lostWithAgent, not_asked: notAsked, tiers,
      tick_ms: { p50: latency(0.5), p99: latency(0.99) },
      messages: { ...network.counts },
      faults_applied: { ...(engine?.applied ?? {}) },
      agent_counters: mode === 'inproc' ? [...members.values()].map((m) => m.counters()!).reduce(addSnapshots) : null,
      episode_team_returns: [...returns.entries()].sort(([a], [b]) => a - b).map(([, r]) => r),
      cpu_s: cpuFrom ? (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(cpuFrom)) : 0,
    };
  } finally {
    await Promise.allSettled([...members.values()].map((m) => m.stop()));
    await sharedLinks?.close();
    bridge?.end(true);
    watch?.close();
    await network.close();
    await bundle.close();
  }
}
