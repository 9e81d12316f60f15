// A remote world's address, as a world id: `remote:` then one or more simulators separated by
// commas — `tcp://host:port` or `unix:/path/to.sock` — and optionally `?timeout_ms=N`, how long
// one answer may take (default 30 s). Several simulators serve one batch together, each its
// share of the envs.

import { WorldError } from '../types.js';

export type Endpoint =
  | { kind: 'tcp'; url: string; host: string; port: number }
  | { kind: 'unix'; url: string; path: string };

export interface RemoteAddress {
  endpoints: Endpoint[];
  timeoutMs: number;
}

export const REMOTE_PREFIX = 'remote:';
export const DEFAULT_TIMEOUT_MS = 30_000;

export function isRemoteWorld(id: string): boolean {
  return id.startsWith(REMOTE_PREFIX);
}

/** A simulator's address; `listening`: port 0 (any free port) is allowed. */
export function parseEndpoint(url: string, where = url, listening = false): Endpoint {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/?,]+):(\d{1,5})$/.exec(url);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < (listening ? 0 : 1) || port > 65_535) throw new WorldError(`${where}: port ${port} is outside ${listening ? 0 : 1}-65535`);
    return { kind: 'tcp', url, host: tcp[1].replace(/^\[|\]$/g, ''), port };
  }
  const unix = /^unix:(\/.+)$/.exec(url);
  if (unix) return { kind: 'unix', url, path: unix[1] };
  throw new WorldError(`${where}: "${url}" is not a simulator address; write tcp://host:port or unix:/absolute/path.sock`);
}

export function parseRemoteAddress(id: string): RemoteAddress {
  if (!isRemoteWorld(id)) throw new WorldError(`"${id}" is not a remote world (remote:tcp://host:port)`);
  const [list, query] = id.slice(REMOTE_PREFIX.length).split('?', 2);
  if (!list) throw new WorldError(`${id}: name at least one simulator, e.g. remote:tcp://127.0.0.1:7000`);
  const endpoints = list.split(',').map((url) => parseEndpoint(url.trim(), id));
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  for (const pair of (query ?? '').split('&').filter(Boolean)) {
    const [key, value] = pair.split('=', 2);
    if (key !== 'timeout_ms') throw new WorldError(`${id}: unknown option "${key}"; the one option is timeout_ms (how long one answer may take)`);
    timeoutMs = Number(value);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new WorldError(`${id}: timeout_ms must be a positive integer of milliseconds, got "${value}"`);
  }
  return { endpoints, timeoutMs };
}
