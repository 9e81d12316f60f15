// Hosts for multi-host tests: network namespaces on a switch of their own (a bridge in one more
// namespace), each host a veth port with an address of 10.77.0.0/24 — nothing outside them sees
// their traffic, and close() removes them all. A partition cuts a host's port on the switch.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface Hosts {
  /** host i's address */
  address(i: number): string;
  /** runs a command on host i (its output collected for failures) */
  run(i: number, command: string, args: string[]): Hosted;
  /** host i loses its link to the others, or gets it back */
  cut(i: number): void;
  restore(i: number): void;
  close(): void;
}

export interface Hosted {
  child: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  /** resolves with the exit code */
  exited: Promise<number | null>;
}

/** Why namespaces cannot be made here (not root, no `ip`), or null when they can. */
export function netnsProblem(): string | null {
  const probe = `fm-probe-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.error) return `ip (iproute2) is not installed: ${made.error.message}`;
  if (made.status !== 0) return `ip netns add is not permitted here: ${made.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function makeHosts(n: number): Hosts {
  const tag = (process.pid % 46_656).toString(36); // at most 3 characters: interface names have 15
  const sw = `fm-sw-${tag}`;
  const hosts = Array.from({ length: n }, (_, i) => `fm-h${i}-${tag}`);
  const port = (i: number) => `fm${tag}s${i}`;
  const children: ChildProcess[] = [];
  const close = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [...hosts, sw]) spawnSync('ip', ['netns', 'del', ns]);
  };
  try {
    ip('netns', 'add', sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    hosts.forEach((ns, i) => {
      const nic = `fm${tag}h${i}`;
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('link', 'add', nic, 'type', 'veth', 'peer', 'name', port(i));
      ip('link', 'set', nic, 'netns', ns);
      ip('link', 'set', port(i), 'netns', sw);
      ip('-n', sw, 'link', 'set', port(i), 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `10.77.0.${i + 1}/24`, 'dev', nic);
      ip('-n', ns, 'link', 'set', nic, 'up');
    });
  } catch (err) {
    close();
    throw err;
  }
  return {
    address: (i) => `10.77.0.${i + 1}`,
    run(i, command, args) {
      const child = spawn('ip', ['netns', 'exec', hosts[i], command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, output: () => out, exited };
    },
    cut: (i) => ip('-n', sw, 'link', 'set', port(i), 'down'),
    restore: (i) => ip('-n', sw, 'link', 'set', port(i), 'up'),
    close,
  };
}
