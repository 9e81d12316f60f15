// Simulators in their own processes, for the remote-world tests: a remote world's main thread
// sleeps while it waits for an answer, so the server can never share its process.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CLI_MAIN, REPO_ROOT } from './paths.js';

export interface SimulatorProcess {
  /** tcp://127.0.0.1:PORT or unix:/path, as the server printed it */
  readonly url: string;
  readonly child: ChildProcess;
  /** its stderr so far */
  stderr(): string;
  kill(): Promise<void>;
}

/** Starts a server that prints "serving <id> on <url>" when it listens, and resolves with that url. */
export function startSimulator(command: string, args: string[]): Promise<SimulatorProcess> {
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}) before listening: ${err}`)));
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /serving \S+ on (\S+)\n/.exec(out); // the whole line: a chunk may end inside the address
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // whatever it prints later is not waited for
      child.removeAllListeners('exit');
      resolve({
        url: m[1], child, stderr: () => err,
        kill: () => new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
      });
    };
    child.stdout!.on('data', onData);
  });
}

/** `fleetmind worlds serve <world>` on a free port. */
export function serveFleetmindWorld(world: string, listen = 'tcp://127.0.0.1:0'): Promise<SimulatorProcess> {
  return startSimulator(process.execPath, [CLI_MAIN, 'worlds', 'serve', world, '--listen', listen, '--quiet']);
}

export const RENDEZVOUS_PY = join(REPO_ROOT, 'examples', 'remote', 'rendezvous.py');

/** The Python reference server's rendezvous task on a free port (bare python3, standard library). */
export function servePythonRendezvous(listen = 'tcp://127.0.0.1:0'): Promise<SimulatorProcess> {
  return startSimulator('python3', [RENDEZVOUS_PY, '--listen', listen]);
}
