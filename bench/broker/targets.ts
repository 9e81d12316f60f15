// The brokers `fleetmind bench broker` compares, each in a process of its own.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsersFile } from '@fleetmind/broker';

export type TargetKind = 'fleetmind' | 'aedes' | 'mosquitto';

export interface Credentials {
  clientId: string;
  username?: string;
  password?: string;
}

export interface Target {
  kind: TargetKind;
  url: string;
  /** credentials of bench agent i (fleet "bench", agent "a<i>") */
  agent(i: number): Credentials;
  /** the broker's process, when the bench started one */
  pid?: number;
  /** resolves with the exit code (or the signal's name) if the broker's process ends */
  exited?: Promise<number | string | null>;
  stop(): Promise<void>;
}

export const BENCH_FLEET = 'bench';
const PASSWORD = 'bench-password';
const SERVE = fileURLToPath(new URL('./serve.js', import.meta.url));

export async function mosquittoAvailable(port = 1883): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** anonymous: the fleetmind broker without users (loopback benches of other parts) */
export async function startTarget(kind: TargetKind, agents: number, { anonymous: noUsers = false, port: fixedPort = 0 } = {}): Promise<Target> {
  const anonymous = (i: number): Credentials => ({ clientId: `bench-a${i}` });
  if (kind === 'mosquitto') {
    if (!(await mosquittoAvailable())) throw new Error('Mosquitto is not running on 127.0.0.1:1883');
    return { kind, url: 'mqtt://127.0.0.1:1883', agent: anonymous, stop: async () => {} };
  }
  let dir: string | undefined;
  const args = [SERVE, kind];
  if (kind === 'fleetmind' && !noUsers) {
    dir = mkdtempSync(join(tmpdir(), 'fm-bench-'));
    const users = await UsersFile.load(join(dir, 'users.json'), { createIfMissing: true });
    // cheap scrypt for throwaway bench users: connecting 500 agents must not take minutes
    for (let i = 0; i < agents; i++) await users.add({ username: `a${i}`, role: 'agent', fleet: BENCH_FLEET, agent: `a${i}` }, PASSWORD, { scryptCost: 1024 });
    await users.save();
    args.push(join(dir, 'users.json'));
  } else args.push('-');
  args.push(String(fixedPort));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${kind} broker exited with ${code} before listening`)));
  });
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    kind,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid,
    exited,
    agent: kind === 'fleetmind' && !noUsers ? (i) => ({ clientId: `a${i}`, username: `a${i}`, password: PASSWORD }) : anonymous,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGKILL'); });
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
