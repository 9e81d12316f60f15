// Cluster mode: brokers that share one Redis see each other's subscribers (mqemitter-redis) and
// share retained messages, sessions and offline queues (aedes-persistence-redis).

import type { AedesOptions } from 'aedes';
import mqemitterRedis from 'mqemitter-redis';
import aedesPersistenceRedis from 'aedes-persistence-redis';

export interface RedisTarget {
  host: string;
  port: number;
  password?: string;
  db?: number;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`redis URL "${url}" is not a URL (expected redis://[:password@]host[:port][/db])`);
  }
  if (u.protocol !== 'redis:') throw new Error(`redis URL "${url}" must start with redis://`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new Error(`redis URL "${url}": database "${u.pathname.slice(1)}" is not a number`);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379, password: u.password || undefined, db };
}

interface RedisConnection {
  status: string;
  once(event: 'ready', listener: () => void): void;
  disconnect(): void;
}

const CONNECT_TIMEOUT_MS = 3_000;

/**
 * aedes's mq and persistence on Redis; fails at start, clearly, when Redis is not there. Later
 * Redis errors go to onError (ioredis reconnects by itself) instead of crashing the broker.
 */
export async function redisBackends(url: string, onError: (err: Error) => void): Promise<Pick<AedesOptions, 'mq' | 'persistence'>> {
  const target = parseRedisUrl(url);
  const options = { ...target, connectTimeout: CONNECT_TIMEOUT_MS };
  const mq = mqemitterRedis(options);
  const conns = mq as unknown as { pubConn: RedisConnection; subConn: RedisConnection; state: { on(e: 'error', f: (err: Error) => void): void } };
  // while the broker starts, ioredis's retries are one failure, said once with the last reason;
  // once it runs, every backend error is reported (and counted) as it happens
  let lastStartError: Error | null = null;
  let started = false;
  conns.state.on('error', (err) => { if (started) onError(err); else lastStartError = err; });
  const ready = (c: RedisConnection) => new Promise<void>((resolve, reject) => {
    if (c.status === 'ready') return resolve();
    const timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${target.host}:${target.port} within ${CONNECT_TIMEOUT_MS / 1000} s${lastStartError ? ` (${lastStartError.message})` : ''}`)), CONNECT_TIMEOUT_MS);
    c.once('ready', () => { clearTimeout(timer); resolve(); });
  });
  try {
    await Promise.all([ready(conns.pubConn), ready(conns.subConn)]);
    started = true;
  } catch (err) {
    conns.pubConn.disconnect();
    conns.subConn.disconnect();
    throw err;
  }
  return { mq, persistence: aedesPersistenceRedis(options) };
}
