// The network of a simulated fleet: the broker (the embedded fleetmind broker, or the user's),
// a user per agent when auth is on, and one link proxy per agent in which the fault engine
// acts on the agent's messages, counted on the way. A broker outage stops the embedded broker
// (and starts it again on the same port) or, for an external one, cuts every proxy.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, UsersFile, type FleetBroker } from '@fleetmind/broker';
import type { IPublishPacket } from 'mqtt-packet';
import { LinkProxy } from '../network/link-proxy.js';
import type { FaultEngine } from '../faults/fault-engine.js';
import type { BrokerChoice } from './sim-options.js';

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
}

export class SimNetwork {
  readonly counts: MessageCounts = { sent: 0, delivered: 0, bytes: 0 };
  private broker: FleetBroker | null = null;
  private brokerPort = 0;
  private brokerUrl = '';
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly credentials = new Map<string, string>();
  private users: UsersFile | undefined;
  private usersDir: string | null = null;
  private down = false;

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
   * world and, for a rollout, an admin one for its operator.
   */
  async start(agentIds: readonly string[], auth: boolean, operator = false): Promise<void> {
    if (auth) await this.makeUsers(agentIds, operator);
    if (this.choice.kind === 'embedded') {
      await this.startBroker(0);
      this.brokerUrl = this.broker!.url;
    } else this.brokerUrl = this.choice.url;
    const target = new URL(this.brokerUrl.replace(/^mqtt:/, 'http:'));
    for (const id of agentIds) {
      const proxy = await new LinkProxy({ host: target.hostname, port: Number(target.port || 1883) }, {
        up: (packet, send) => {
          if (packet.topic.endsWith('/msg')) { this.counts.sent++; this.counts.bytes += (packet.payload as Buffer).length; }
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

  /** where agent `id` connects: its own link proxy */
  agentUrl(id: string): string {
    return this.proxies.get(id)!.url;
  }

  /** Writes packets on agent `id`'s link as if the broker sent them (the simulator's LostNotices). */
  tell(id: string, packets: readonly IPublishPacket[]): void {
    const proxy = this.proxies.get(id)!;
    for (const p of packets) proxy.inject(p);
  }

  /** agent `id`'s (or 'world''s, or 'operator''s) credentials for this run, when auth is on */
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
      for (const p of this.proxies.values()) await (out ? p.cut() : p.restore());
    }
    return true;
  }

  async close(): Promise<void> {
    for (const p of this.proxies.values()) await p.close();
    await this.broker?.close();
    if (this.usersDir) rmSync(this.usersDir, { recursive: true, force: true });
  }

  private async startBroker(port: number): Promise<void> {
    this.broker = await startBroker({ port, users: this.users, allowAnonymous: !this.users, drainTimeoutMs: this.brokerDrainTimeoutMs, connectionBurst: 5_000 });
    this.brokerPort = this.broker.port;
  }

  /** Users for this run only: each agent its own (ACLs confine it to its subtree), the world one, a rollout's operator an admin. */
  private async makeUsers(agentIds: readonly string[], operator: boolean): Promise<void> {
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
    if (operator) {
      this.credentials.set('operator', password());
      await this.users.add({ username: 'operator', role: 'admin' }, this.credentials.get('operator')!, { scryptCost: 1024 });
    }
  }
}
