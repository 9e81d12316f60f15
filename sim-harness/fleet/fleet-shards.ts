// A simulated fleet in shards (`fleetmind sim --shards K`): the world plays in this process and
// speaks the wire contract over the broker, as a user's simulator speaks to `fleetmind fleet` —
// each agent's Observation on fm/<fleet>/a/<agent>/obs, its Action read back from …/act — while
// the agents run in K `fleetmind fleet --agents …` shards: child processes here, or (`--shards
// elsewhere`) processes someone started on other hosts, on this broker or a broker of its cluster.
// Agent ids are dealt to shards in turn (agent_0 to shard 0, agent_1 to shard 1 …), so a team
// always spans shards and its messages cross processes.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { ActionOut, AgentSettingsInput, AgentSnapshot, ObservationIn } from '@fleetmind/runtime';
import { agentTopic, decodeAction, encodeControl, encodeObservation, fleetTopic, isEmptyPeerMessage } from '@fleetmind/wire';
import type { FleetMember } from './fleet-member.js';
import type { FleetRunReport } from './serve-fleet.js';
import { SimError } from './sim-options.js';

const SHARD_MAIN = new URL('./shard-main.js', import.meta.url);
/** a shard runs many agents: a larger young generation, as the fleetmind executable asks for itself (cli/main.ts) */
const SHARD_NODE_FLAGS = ['--max-semi-space-size=64'];

/** What a shard process is told (shard-main.ts reads it as JSON from its argument). */
export interface ShardSpec {
  bundle: string;
  broker: string;
  fleet: string;
  agents: string[];
  /** whom each of its agents hears */
  peers: Record<string, string[]>;
  agent: AgentSettingsInput;
  /** a broker with users: the shard's user (role fleet); its password goes in the environment, not in the arguments ps shows */
  username?: string;
}

/** The agents of shard k of K: every K-th, from the k-th. */
export function shardAgents(ids: readonly string[], shards: number, k: number): string[] {
  return ids.filter((_, i) => i % shards === k);
}

/**
 * The world's end of the wire: observations out, actions in, over one MQTT connection. With
 * countMessages it also counts the peer messages the agents publish (shards elsewhere report them
 * to no one here; shards here count their own, without every message coming to the world too).
 */
export class WorldLink {
  /** peer messages seen on the broker, and their bytes */
  readonly published = { messages: 0, bytes: 0, empty: 0 };
  private stopSent = false;

  private constructor(private readonly client: MqttClient, private readonly fleet: string) {}

  static async connect(url: string, fleet: string, onAction: (agent: string, action: ActionOut) => void, countMessages: boolean, timeoutMs = 5_000, credentials?: { username: string; password: string }): Promise<WorldLink> {
    const clientId = credentials ? `${credentials.username}:link:${process.pid}` : `${fleet}-world:link:${process.pid}`;
    const client = mqttConnect(url, { clientId, reconnectPeriod: 200, connectTimeout: timeoutMs, ...credentials });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => { (client.stream as unknown as Socket).setNoDelay?.(true); resolve(); });
      client.once('error', (err) => { client.end(true); reject(new SimError(`the world cannot reach the broker at ${url}: ${err.message}`)); });
    });
    const actionTopic = new RegExp(`^fm/${fleet.replace(/[.]/g, '\\.')}/a/([^/]+)/act$`);
    const link = new WorldLink(client, fleet);
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/msg')) {
        link.published.messages++;
        link.published.bytes += payload.length;
        if (isEmptyPeerMessage(payload)) link.published.empty++;
        return;
      }
      const agent = actionTopic.exec(topic)?.[1];
      if (!agent) return;
      try {
        onAction(agent, decodeAction(payload));
      } catch { /* not an action: the collector waits for a real one, and counts it missing if none comes */ }
    });
    await client.subscribeAsync([`fm/${fleet}/a/+/act`, ...(countMessages ? [`fm/${fleet}/a/+/msg`] : [])]);
    return link;
  }

  observe(agent: string, o: ObservationIn): void {
    this.client.publish(agentTopic(this.fleet, agent, 'obs'), Buffer.from(encodeObservation({ tick: o.tick, values: o.values, sentUs: Date.now() * 1000, ...(o.episode ? { episode: o.episode } : {}) })), { qos: 0 });
  }

  /** Control {command: "stop"}: every shard (here or elsewhere) reports and exits. Said once. */
  async stopShards(): Promise<void> {
    if (this.stopSent) return;
    this.stopSent = true;
    await this.client.publishAsync(fleetTopic(this.fleet, 'ctl'), Buffer.from(encodeControl({ command: 'stop', argument: '' })), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** An agent in a shard, as the world sees it: an observation published, an action read back. */
export class ShardMember implements FleetMember {
  constructor(readonly id: string, private readonly link: WorldLink) {}

  get running(): boolean { return true; }
  async start(): Promise<void> {}
  observe(observation: ObservationIn): void { this.link.observe(this.id, observation); }
  standby(): void {
    throw new SimError(`${this.id} left the episode: a sharded fleet cannot tell a shard's agent to stand by yet (the wire has no such message); run this world without --shards`);
  }
  // agent faults strike in a shard's own process, not from the world's (fleet-shards refuses plans)
  async crash(): Promise<void> { throw new SimError('crash faults are not applied to shards'); }
  freeze(): void { throw new SimError('freeze faults are not applied to shards'); }
  thaw(): void {}
  slowInference(): void {}
  counters(): AgentSnapshot | null { return null; }
  async stop(): Promise<void> {}
}

/** K shard processes on this host, each `fleetmind fleet` for its agents; their reports when they stop. */
export class LocalShards {
  private readonly children: ChildProcess[] = [];
  private readonly reports: Promise<FleetRunReport>[] = [];

  /** password: the shards' user's (ShardSpec.username) */
  async start(specs: readonly ShardSpec[], password?: string): Promise<void> {
    for (const spec of specs) {
      const env = password === undefined ? process.env : { ...process.env, FLEETMIND_PASSWORD: password };
      const child = spawn(process.execPath, [...SHARD_NODE_FLAGS, SHARD_MAIN.pathname, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'], env });
      this.children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4_000); });
      const lines = createInterface({ input: child.stdout! });
      let ready: () => void = () => {};
      const isReady = new Promise<void>((resolve) => { ready = resolve; });
      this.reports.push(new Promise<FleetRunReport>((resolve, reject) => {
        lines.on('line', (line) => {
          const message = JSON.parse(line) as { ready?: true; report?: FleetRunReport };
          if (message.ready) ready();
          if (message.report) resolve(message.report);
        });
        child.once('exit', (code, signal) => reject(new SimError(`shard ${spec.agents.join(',')} exited (${signal ?? code}) without a report: ${stderr.trim() || 'no message'}`)));
      }));
      const exited = this.reports.at(-1)!.then(() => { throw new SimError(`shard ${spec.agents.join(',')} stopped before it was ready`); });
      await Promise.race([isReady, exited]);
    }
  }

  /** The shards' reports, once the world has told them to stop. */
  async finish(): Promise<FleetRunReport[]> {
    return Promise.all(this.reports);
  }

  kill(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const report of this.reports) report.catch(() => {});
  }
}
