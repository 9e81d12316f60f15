// The network of a simulated fleet: the broker (the embedded fleetmind broker, or the user's),
// a user per agent when auth is on, and one link proxy per agent in which the fault engine
// acts on the agent's messages, counted on the way. A broker outage stops the embedded broker
// (and starts it again on the same port) or, for an external one, cuts every proxy.
//
// A proxy costs each message two more socket hops and a parse: where nothing needs the links
// (no faults, no notices told to an agent, the embedded broker) the agents connect to the broker
// itself, and the broker counts the same messages (what was published, what was forwarded to
// an agent).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, UsersFile, type FleetBroker } from '@fleetmind/broker';
import type { IPublishPacket } from 'mqtt-packet';
import { isEmptyPeerMessage } from '@fleetmind/wire';
import { LinkProxy } from '../network/link-proxy.js';
import type { FaultEngine } from '../faults/fault-engine.js';
import { SimError, type BrokerChoice } from './sim-options.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface MessageCounts {
  /** peer messages the agents published */
  sent: number;
  /** peer messages handed to an agent */
  delivered: number;
  /** bytes of the peer messages published */
  bytes: number;
  /** of those sent, the empty ones: abstentions and a gated policy's chosen silences (wire 1.3, 1.6) */
  empty: number;
}

export class SimNetwork {
  readonly counts: MessageCounts = { sent: 0, delivered: 0, bytes: 0, empty: 0 };
  private broker: FleetBroker | null = null;
  private brokerPort = 0;
  private brokerUrl = '';
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly credentials = new Map<string, string>();
  private users: UsersFile | undefined;
  private usersDir: string | null = null;
  private down = false;
  /** agents connect to the broker itself, not through link proxies */
  private direct = false;
  private agentIds = new Set<string>();

  constructor(
    private readonly choice: BrokerChoice,
    private readonly fleet: string,
    private readonly engine: FaultEngine | null,
    private readonly brokerDrainTimeoutMs: number,
  ) {}

  /** the broker's own address (the world server connects here, not through a proxy) */
  get url(): string {
    return this.brokerUrl;
  }

  get auth(): boolean {
    return this.users !== undefined;
  }

  /**
   * Starts the broker (embedded) and a proxy per agent; with auth, a user per agent, one for the
   * world and, for a rollout, an admin one for its operator. `links: false`: the run will never
   * tell an agent anything itself (no notices of agents that come and go), so without a fault
   * engine and on the embedded broker, the agents need no proxies. `hosts`: with auth, a user of
   * role fleet, `shards`, for shard processes that host the agents (sim --shards). `oneLink`: the
   * agents share one connection (no fault engine): one proxy, which counts their messages, for all.
   */
  async start(agentIds: readonly string[], auth: boolean, operator = false, links = true, hosts = false, oneLink = false): Promise<void> {
    if (oneLink && this.engine) throw new SimError('agents on one shared connection cannot each have a link of their own for the fault plan');
    if (auth) await this.makeUsers(agentIds, operator, hosts);
    this.direct = !links && this.engine === null && this.choice.kind === 'embedded';
    this.agentIds = new Set(agentIds);
    if (this.choice.kind === 'embedded') {
      await this.startBroker(0);
      this.brokerUrl = this.broker!.url;
    } else this.brokerUrl = this.choice.url;
    if (this.direct) return;
    const target = new URL(this.brokerUrl.replace(/^mqtt:/, 'http:'));
    for (const id of agentIds) {
      const first = this.proxies.values().next().value;
      if (oneLink && first) { this.proxies.set(id, first); continue; }
      const proxy = await new LinkProxy({ host: target.hostname, port: Number(target.port || 1883) }, {
        up: (packet, send) => {
          if (packet.topic.endsWith('/msg')) this.countSent(packet.payload as Buffer);
          if (this.engine) this.engine.upFilter(id)(packet, send);
          else send(packet);
        },
        down: (packet, send) => {
          const count = (p: typeof packet) => { if (p.topic.endsWith('/msg')) this.counts.delivered++; send(p); };
          if (this.engine) this.engine.downFilter(id)(packet, count);
          else count(packet);
        },
      }).start();
      this.proxies.set(id, proxy);
    }
  }

  /** where agent `id` connects: its own link proxy, or the broker where the run needs no links */
  agentUrl(id: string): string {
    return this.direct ? this.brokerUrl : this.proxies.get(id)!.url;
  }

  /** whether the agents connect to the broker itself (no link proxies) */
  get directLinks(): boolean {
    return this.direct;
  }

  /** a peer message an agent published: counted, and whether it carried no message */
  private countSent(payload: Uint8Array): void {
    this.counts.sent++;
    this.counts.bytes += payload.length;
    if (isEmptyPeerMessage(payload)) this.counts.empty++;
  }

  /** Writes packets on agent `id`'s link as if the broker sent them (the simulator's LostNotices). */
  tell(id: string, packets: readonly IPublishPacket[]): void {
    const proxy = this.proxies.get(id);
    // no links (no faults): only an agent that failed by itself is absent, and its peers then wait
    // out their round deadline, as a real fleet's would
    if (!proxy) return;
    for (const p of packets) proxy.inject(p);
  }

  /** agent `id`'s (or 'world''s, 'shards'' or 'operator''s) credentials for this run, when auth is on */
  credentialsOf(id: string): Credentials | undefined {
    const password = this.credentials.get(id);
    return password === undefined ? undefined : { username: id, password };
  }

  /** The broker goes away (true) or comes back (false); nothing happens if it already is so. */
  async setOutage(out: boolean): Promise<boolean> {
    if (out === this.down) return false;
    this.down = out;
    if (this.choice.kind === 'embedded') {
      if (out) { await this.broker?.close(); this.broker = null; } else await this.startBroker(this.brokerPort);
    } else {
      for (const p of new Set(this.proxies.values())) await (out ? p.cut() : p.restore());
    }
    return true;
  }

  async close(): Promise<void> {
    for (const p of new Set(this.proxies.values())) await p.close();
    await this.broker?.close();
    if (this.usersDir) rmSync(this.usersDir, { recursive: true, force: true });
  }

  private async startBroker(port: number): Promise<void> {
    // with no proxies, the broker counts: peer messages an agent published, and those forwarded to an agent
    // an agent's client id is `<agent>:<fleet>:<pid>`
    const isAgent = (clientId: string | undefined) => clientId !== undefined && clientId.includes(':') && this.agentIds.has(clientId.slice(0, clientId.indexOf(':')));
    const onForward = this.direct
      ? (clientId: string | undefined, topic: string) => { if (topic.endsWith('/msg') && isAgent(clientId)) this.counts.delivered++; }
      : undefined;
    // counted before any peer has it: a lockstep run ends once every agent answered, which may be
    // before aedes's 'publish' event for the last message (a procs run once counted 299 of 300)
    const onPublish = this.direct
      ? (clientId: string, topic: string, payload: Uint8Array) => { if (topic.endsWith('/msg') && isAgent(clientId)) this.countSent(payload); }
      : undefined;
    this.broker = await startBroker({ port, users: this.users, allowAnonymous: !this.users, drainTimeoutMs: this.brokerDrainTimeoutMs, connectionBurst: 5_000, onForward, onPublish });
    this.brokerPort = this.broker.port;
  }

  /** Users for this run only: each agent its own (ACLs confine it to its subtree), the world one, a rollout's operator an admin. */
  private async makeUsers(agentIds: readonly string[], operator: boolean, hosts: boolean): Promise<void> {
    this.usersDir = mkdtempSync(join(tmpdir(), 'fm-sim-users-'));
    this.users = await UsersFile.load(join(this.usersDir, 'users.json'), { createIfMissing: true });
    const password = () => randomBytes(18).toString('base64url');
    // cheap scrypt: throwaway users of one run, never stored beyond it
    for (const id of agentIds) {
      this.credentials.set(id, password());
      await this.users.add({ username: id, role: 'agent', fleet: this.fleet, agent: id }, this.credentials.get(id)!, { scryptCost: 1024 });
    }
    this.credentials.set('world', password());
    await this.users.add({ username: 'world', role: 'world', fleet: this.fleet }, this.credentials.get('world')!, { scryptCost: 1024 });
    if (hosts) {
      this.credentials.set('shards', password());
      await this.users.add({ username: 'shards', role: 'fleet', fleet: this.fleet }, this.credentials.get('shards')!, { scryptCost: 1024 });
    }
    if (operator) {
      this.credentials.set('operator', password());
      await this.users.add({ username: 'operator', role: 'admin' }, this.credentials.get('operator')!, { scryptCost: 1024 });
    }
  }
}
