import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsersFile, type Principal } from '@fleetmind/broker';

/** Connects once (no reconnect); rejects with the CONNACK return code on refusal. */
export function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => { client.end(true); reject(err); });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

export const PASSWORD = 'correct-horse-1';

/** A users file in a temp folder with these users, all with PASSWORD. */
export async function makeUsers(users: Principal[]): Promise<{ file: UsersFile; path: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'fm-users-'));
  const path = join(dir, 'users.json');
  const file = await UsersFile.load(path, { createIfMissing: true });
  for (const u of users) await file.add(u, PASSWORD);
  await file.save();
  return { file, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const FLEET_USERS: Principal[] = [
  { username: 'a1', role: 'agent', fleet: 'f1', agent: 'a1' },
  { username: 'a2', role: 'agent', fleet: 'f1', agent: 'a2' },
  { username: 'w1', role: 'world', fleet: 'f1' },
  { username: 'h1', role: 'fleet', fleet: 'f1' },
  { username: 'b1', role: 'agent', fleet: 'f2', agent: 'b1' },
  { username: 'root', role: 'admin' },
];

export async function refusalCount(metrics: { refusals: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> } }, reason: string): Promise<number> {
  return (await metrics.refusals.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
