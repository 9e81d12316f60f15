// The world server's view of liveness: it subscribes to the fleet's heartbeats and waits, on
// events, until every agent has been heard three times after all started — two whole heartbeat
// periods after the last one came online, so each agent has also heard every other (its
// subscriptions were in place a period before), and the first tick starts with a fleet that
// knows itself.

import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { decodeHeartbeat } from '@fleetmind/wire';
import type { Credentials } from './sim-network.js';
import { SimError } from './sim-options.js';

let watches = 0;

export class HeartbeatWatch {
  private readonly seen = new Map<string, number>();
  private waiter: (() => void) | null = null;
  /** the watcher's last connection error, said when the fleet does not come online */
  private lastError: Error | null = null;
  /** heartbeats that did not decode (another fleet's tool, a corrupting fault): counted, not fatal */
  malformed = 0;

  private constructor(private readonly client: MqttClient) {
    client.on('error', (err) => { this.lastError = err; });
    client.on('message', (_topic, payload) => {
      try {
        const hb = decodeHeartbeat(payload);
        if (hb.online) this.seen.set(hb.agent, (this.seen.get(hb.agent) ?? 0) + 1);
      } catch {
        this.malformed++;
        return;
      }
      this.waiter?.();
    });
  }

  static async connect(url: string, fleet: string, credentials: Credentials | undefined, timeoutMs: number): Promise<HeartbeatWatch> {
    // unique: a sharded run has a watch in the world's process and one in each shard, and on a
    // broker (or a cluster) a second client with the same id takes the first one's place
    const clientId = `${credentials ? credentials.username : `${fleet}-world`}:watch:${process.pid}:${++watches}`;
    const client = mqttConnect(url, { reconnectPeriod: 200, clientId, ...credentials });
    const watch = new HeartbeatWatch(client);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SimError(`cannot reach the broker at ${url} within ${timeoutMs} ms${watch.lastError ? `: ${watch.lastError.message}` : ''}`)), timeoutMs);
        client.once('connect', () => { clearTimeout(timer); resolve(); });
        // the broker refused these credentials (CONNACK 4 or 5): retrying will not change its mind
        client.on('error', (err: Error & { code?: number }) => {
          if (err.code !== 4 && err.code !== 5) return;
          clearTimeout(timer);
          reject(new SimError(`the broker at ${url} refused ${credentials ? `user "${credentials.username}"` : 'a client without credentials'}: ${err.message}`));
        });
      });
      await client.subscribeAsync(`fm/${fleet}/a/+/hb`);
    } catch (err) {
      client.end(true);
      throw err;
    }
    return watch;
  }

  /** Resolves once every agent's heartbeat has been seen three times from now on; rejects after timeoutMs naming the silent ones. */
  async untilAllHeard(ids: readonly string[], timeoutMs: number): Promise<void> {
    this.seen.clear();
    const silent = () => ids.filter((id) => (this.seen.get(id) ?? 0) < 3);
    if (silent().length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        const why = this.lastError ? ` (the world's connection: ${this.lastError.message})` : '';
        reject(new SimError(`agents ${silent().join(', ')} did not come online within ${timeoutMs / 1000} s${why}`));
      }, timeoutMs);
      this.waiter = () => {
        if (silent().length > 0) return;
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
    });
  }

  /** The world server's other traffic on this connection (its ground truth each tick, for dashboards). */
  publish(topic: string, payload: Uint8Array): void {
    if (this.client.connected) this.client.publish(topic, Buffer.from(payload), { qos: 0 });
  }

  close(): void {
    this.client.end(true);
  }
}
