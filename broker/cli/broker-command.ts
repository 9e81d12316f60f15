// `fleetmind broker` — the embedded broker and its users file. The same command is the broker
// package's own bin (`fleetmind-broker`), so a gateway that installs only @fleetmind/broker
// runs exactly this, without ONNX Runtime or TensorFlow.js.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startBroker } from '../broker.js';
import { UsersFile, ROLES, type Role } from '../auth/users-file.js';

/** A bad argument or input file: the command line reports it and exits 2. */
export class BrokerCliError extends Error {
  readonly code = 'FM_ERR_BROKER_ARGS';
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

interface BrokerCliOptions {
  host: string;
  port: number;
  users?: string;
  allowAnonymous?: boolean;
  metricsPort?: number;
  wsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsPort: number;
  redis?: string;
  maxPacketSize: number;
  maxClients: number;
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new BrokerCliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function readPassword(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (opts.password !== undefined) return opts.password;
  const rl = createInterface({ input: process.stdin, terminal: false });
  if (opts.passwordStdin || !process.stdin.isTTY) {
    for await (const line of rl) { rl.close(); return line; }
    throw new BrokerCliError('no password on standard input');
  }
  // interactive: ask twice without echo
  const ask = (prompt: string) => new Promise<string>((resolve) => {
    process.stderr.write(prompt);
    const wasRaw = process.stdin.isRaw;
    process.stdin.setRawMode(true);
    let text = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          process.stdin.off('data', onData);
          process.stdin.setRawMode(wasRaw);
          process.stderr.write('\n');
          return resolve(text);
        }
        if (ch === '\u0003') process.exit(130);
        text = ch === '\u007f' ? text.slice(0, -1) : text + ch;
      }
    };
    process.stdin.on('data', onData);
  });
  rl.close();
  const first = await ask('password: ');
  const again = await ask('again: ');
  process.stdin.pause();
  if (first !== again) throw new BrokerCliError('the passwords differ');
  return first;
}

export function brokerCommand(name = 'broker'): Command {
  const broker = new Command(name)
    .description('run the embedded MQTT 3.1.1 broker (aedes) with per-agent auth and ACLs, limits and metrics; Ctrl-C stops it')
    .enablePositionalOptions()
    .option('--host <addr>', 'listen address (loopback unless told otherwise)', '127.0.0.1')
    .option('--port <n>', 'MQTT TCP port (0 = any free port)', port, 1883)
    .option('--users <file>', 'users file (see `fleetmind broker user add`)')
    .option('--allow-anonymous', 'let clients without credentials in with full rights (loopback only)')
    .option('--metrics-port <n>', 'serve Prometheus metrics at http://<host>:<n>/metrics', port)
    .option('--ws-port <n>', 'also serve MQTT over WebSocket on this port', port)
    .option('--tls-cert <file>', 'PEM certificate chain: also serve MQTT over TLS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--tls-port <n>', 'MQTT over TLS port', port, 8883)
    .option('--redis <url>', 'cluster mode: share routing, retained messages and sessions with other brokers through Redis (redis://host:port)')
    .addOption(new Option('--max-packet-size <bytes>', 'largest MQTT packet accepted').argParser(positiveInt).default(65536))
    .addOption(new Option('--max-clients <n>', 'most clients at once').argParser(positiveInt).default(10000))
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user add --users users.json --username a1 --role agent --fleet f1 --agent a1\n  $ fleetmind broker --users users.json --metrics-port 9464\n  $ fleetmind broker --allow-anonymous --port 0\n  $ fleetmind broker --users users.json --tls-cert cert.pem --tls-key key.pem --ws-port 8080 --redis redis://127.0.0.1:6379')
    .action(async (opts: BrokerCliOptions) => {
      if (!opts.users && !opts.allowAnonymous) throw new BrokerCliError('give --users FILE, or --allow-anonymous on loopback');
      if (opts.allowAnonymous && !LOOPBACK.test(opts.host)) throw new BrokerCliError(`--allow-anonymous is for loopback only; --host ${opts.host} would open the fleet to anyone`);
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new BrokerCliError('--tls-cert and --tls-key go together');
      const users = opts.users ? await loadUsers(opts.users) : undefined;
      const tls = opts.tlsCert && opts.tlsKey
        ? { cert: readPem('--tls-cert', opts.tlsCert), key: readPem('--tls-key', opts.tlsKey), port: opts.tlsPort }
        : undefined;
      const b = await startBroker({
        host: opts.host, port: opts.port, users, allowAnonymous: opts.allowAnonymous ?? false,
        metricsPort: opts.metricsPort, maxPacketSize: opts.maxPacketSize, maxClients: opts.maxClients,
        wsPort: opts.wsPort, tls, redis: opts.redis,
        onError: (err) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'backend_error', message: err.message })}\n`),
        onRefusal: (e) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'refused', ...e })}\n`),
      });
      const auth = users ? `users from ${opts.users}` : 'anonymous access';
      const extra = [
        b.tlsUrl && `TLS on ${b.tlsUrl}`,
        b.wsUrl && `WebSocket on ${b.wsUrl}`,
        opts.redis && `cluster via ${opts.redis}`,
        b.metricsPort !== undefined && `metrics on http://${b.host}:${b.metricsPort}/metrics`,
      ].filter(Boolean);
      process.stdout.write(`fleetmind broker listening on ${b.url} (${auth})${extra.length ? `, ${extra.join(', ')}` : ''}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { process.stdout.write('fleetmind broker stopping\n'); resolve(); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await b.close();
    });

  const user = broker
    .command('user')
    .description('manage the users file: salted scrypt password hashes, a role each (agent, world, admin)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user list --users users.json\n  $ fleetmind broker user add --users users.json --username world1 --role world --fleet f1 --password-stdin < pw.txt');

  user
    .command('add')
    .description('add a user (the file is created if missing); the password comes from --password, --password-stdin or a prompt')
    .requiredOption('--users <file>', 'users file')
    .requiredOption('--username <name>', 'user name; the MQTT client id must be this name or <name>:<suffix>')
    .addOption(new Option('--role <role>', 'agent: own subtree; world: observations, ticks, control; admin: anything').choices([...ROLES]).makeOptionMandatory())
    .option('--fleet <id>', 'fleet (agent and world users)')
    .option('--agent <id>', 'agent id (agent users)')
    .option('--password <pw>', 'password (visible in the process list: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText('after', '\nExample:\n  $ fleetmind broker user add --users users.json --username a1 --role agent --fleet f1 --agent a1 --password-stdin < pw.txt')
    .action(async (opts: { users: string; username: string; role: Role; fleet?: string; agent?: string; password?: string; passwordStdin?: boolean }) => {
      const file = await loadUsers(opts.users, true);
      const password = await readPassword(opts);
      await wrap(() => file.add({ username: opts.username, role: opts.role, fleet: opts.fleet, agent: opts.agent }, password));
      await file.save();
      process.stdout.write(`added ${opts.role} user "${opts.username}" to ${opts.users}\n`);
    });

  user
    .command('remove')
    .description('remove a user')
    .requiredOption('--users <file>', 'users file')
    .requiredOption('--username <name>', 'user to remove')
    .addHelpText('after', '\nExample:\n  $ fleetmind broker user remove --users users.json --username a1')
    .action(async (opts: { users: string; username: string }) => {
      const file = await loadUsers(opts.users);
      await wrap(async () => file.remove(opts.username));
      await file.save();
      process.stdout.write(`removed user "${opts.username}" from ${opts.users}\n`);
    });

  user
    .command('list')
    .description('list the users and their rights (never the hashes)')
    .requiredOption('--users <file>', 'users file')
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExample:\n  $ fleetmind broker user list --users users.json')
    .action(async (opts: { users: string; json?: boolean }) => {
      const list = (await loadUsers(opts.users)).list();
      if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      const rows = [['username', 'role', 'fleet', 'agent'], ...list.map((u) => [u.username, u.role, u.fleet ?? '-', u.agent ?? '-'])];
      const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
      for (const row of rows) process.stdout.write(`${row.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd()}\n`);
    });
  return broker;
}

async function loadUsers(path: string, createIfMissing = false): Promise<UsersFile> {
  return wrap(() => UsersFile.load(path, { createIfMissing }));
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new BrokerCliError((err as Error).message);
  }
}
