// `fleetmind broker` — the embedded broker and its users file. The same command is the broker
// package's own bin (`fleetmind-broker`), so a gateway that installs only @fleetmind/broker
// runs exactly this, without ONNX Runtime or TensorFlow.js.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsersFile, ROLES, type Role } from '../auth/users-file.js';
import { writeSecretFile } from '../auth/secret-file.js';

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
  tlsClientCa?: string;
  tlsCrl?: string;
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
    .option('--tls-client-ca <file>', 'mutual TLS: TLS clients must show a certificate from this CA; its subject (CN, O = fleet, OU = role) is the identity (see `fleetmind broker cert`)')
    .option('--tls-crl <file>', 'revocation list of --tls-client-ca, reloaded whenever it changes')
    .option('--redis <url>', 'cluster mode: share routing, retained messages and sessions with other brokers through Redis (redis://host:port)')
    .addOption(new Option('--max-packet-size <bytes>', 'largest MQTT packet accepted').argParser(positiveInt).default(65536))
    .addOption(new Option('--max-clients <n>', 'most clients at once').argParser(positiveInt).default(10000))
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user add --users users.json --username a1 --role agent --fleet f1 --agent a1\n  $ fleetmind broker --users users.json --metrics-port 9464\n  $ fleetmind broker --allow-anonymous --port 0\n  $ fleetmind broker --users users.json --tls-cert cert.pem --tls-key key.pem --ws-port 8080 --redis redis://127.0.0.1:6379\n  $ fleetmind broker --tls-cert ca/broker.crt --tls-key ca/broker.key --tls-client-ca ca/ca.crt --tls-crl ca/crl.pem')
    .action(async (opts: BrokerCliOptions) => {
      if (!opts.users && !opts.allowAnonymous && !opts.tlsClientCa) throw new BrokerCliError('give --users FILE, --tls-client-ca FILE (device certificates), or --allow-anonymous on loopback');
      if ((opts.tlsClientCa || opts.tlsCrl) && !opts.tlsCert) throw new BrokerCliError('--tls-client-ca and --tls-crl need TLS on: give --tls-cert and --tls-key');
      if (opts.tlsCrl && !opts.tlsClientCa) throw new BrokerCliError('--tls-crl needs --tls-client-ca');
      if (opts.allowAnonymous && !LOOPBACK.test(opts.host)) throw new BrokerCliError(`--allow-anonymous is for loopback only; --host ${opts.host} would open the fleet to anyone`);
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new BrokerCliError('--tls-cert and --tls-key go together');
      const users = opts.users ? await loadUsers(opts.users) : undefined;
      const tls = opts.tlsCert && opts.tlsKey
        ? {
          cert: readPem('--tls-cert', opts.tlsCert), key: readPem('--tls-key', opts.tlsKey), port: opts.tlsPort,
          clientCa: opts.tlsClientCa && readPem('--tls-client-ca', opts.tlsClientCa),
          crlPath: opts.tlsCrl && (readPem('--tls-crl', opts.tlsCrl), opts.tlsCrl),
          onRevocationsLoaded: (revoked: number) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'revocations_loaded', file: opts.tlsCrl, revoked })}\n`),
        }
        : undefined;
      const { startBroker } = await import('../broker.js'); // aedes and its parts load only when the broker runs
      const b = await startBroker({
        host: opts.host, port: opts.port, users, allowAnonymous: opts.allowAnonymous ?? false,
        metricsPort: opts.metricsPort, maxPacketSize: opts.maxPacketSize, maxClients: opts.maxClients,
        wsPort: opts.wsPort, tls, redis: opts.redis,
        onError: (err) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'backend_error', message: err.message })}\n`),
        onRefusal: (e) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'refused', ...e })}\n`),
      });
      const auth = [users && `users from ${opts.users}`, opts.tlsClientCa && `device certificates from ${opts.tlsClientCa}`].filter(Boolean).join(' and ') || 'anonymous access';
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

  registerCertCommands(broker);

  const user = broker
    .command('user')
    .description('manage the users file: salted scrypt password hashes, a role each (agent, fleet, world, admin)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user list --users users.json\n  $ fleetmind broker user add --users users.json --username world1 --role world --fleet f1 --password-stdin < pw.txt');

  user
    .command('add')
    .description('add a user (the file is created if missing); the password comes from --password, --password-stdin or a prompt')
    .requiredOption('--users <file>', 'users file')
    .requiredOption('--username <name>', 'user name; the MQTT client id must be this name or <name>:<suffix>')
    .addOption(new Option('--role <role>', 'agent: own subtree; fleet: what an agent publishes, for any agent of its fleet (a process hosting many, as `fleetmind fleet`); world: observations, ticks, control; admin: anything').choices([...ROLES]).makeOptionMandatory())
    .option('--fleet <id>', 'fleet (agent, fleet and world users)')
    .option('--agent <id>', 'agent id (agent users)')
    .option('--password <pw>', 'password (visible in the process list: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user add --users users.json --username a1 --role agent --fleet f1 --agent a1 --password-stdin < pw.txt')
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
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user remove --users users.json --username a1')
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
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker user list --users users.json')
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

/** `fleetmind broker cert ca|issue|server|revoke`: a device CA of the operator's and its certificates. */
function registerCertCommands(broker: Command): void {
  const cert = broker
    .command('cert')
    .description('device certificates for mutual TLS: make a CA, issue a certificate per robot (or world server, operator), revoke one')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker cert ca --dir ca\n  $ fleetmind broker cert server --dir ca --host broker.local --out ca/broker\n  $ fleetmind broker cert issue --dir ca --fleet f1 --agent a1 --out robot-a1\n  $ fleetmind broker cert revoke --dir ca --cert robot-a1.crt');
  const certs = () => import('../auth/certificates.js');
  cert
    .command('ca')
    .description('make a certificate authority in a folder: ca.crt, ca.key (mode 600; keep it off robots and brokers), crl.pem')
    .requiredOption('--dir <dir>', 'CA folder (created; an existing CA is never replaced)')
    .option('--days <n>', 'validity', positiveInt, 3650)
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker cert ca --dir ca')
    .action(async (opts: { dir: string; days: number }) => {
      mkdirSync(opts.dir, { recursive: true });
      const { createCertificateAuthority } = await certs();
      await wrap(() => createCertificateAuthority(opts.dir, { days: opts.days }));
      process.stdout.write(`made a device CA in ${opts.dir}: ca.crt (give it to the broker as --tls-client-ca), ca.key (private: keep it off robots and brokers), crl.pem (--tls-crl)\n`);
    });
  cert
    .command('issue')
    .description('issue a client certificate: <out>.crt and <out>.key (mode 600) for one robot, world server or operator')
    .requiredOption('--dir <dir>', 'CA folder')
    .option('--fleet <id>', 'fleet (agent, fleet and world certificates)')
    .option('--agent <id>', 'agent id (an agent certificate)')
    .option('--username <name>', 'user name (fleet, world and admin certificates)')
    .addOption(new Option('--role <role>', 'agent: own subtree; fleet: what an agent publishes, for any agent of its fleet (a process hosting many, as `fleetmind fleet`); world: observations, ticks, control; admin: anything').choices([...ROLES]).default('agent'))
    .option('--days <n>', 'validity', positiveInt, 365)
    .requiredOption('--out <prefix>', 'writes <prefix>.crt and <prefix>.key')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker cert issue --dir ca --fleet f1 --agent a1 --out robot-a1\n  $ fleetmind broker cert issue --dir ca --fleet f1 --role world --username world1 --out world1')
    .action(async (opts: { dir: string; fleet?: string; agent?: string; username?: string; role: Role; days: number; out: string }) => {
      const name = opts.role === 'agent' ? opts.agent : opts.username;
      if (!name) throw new BrokerCliError(opts.role === 'agent' ? '--agent: an agent certificate names its agent' : `--username: a ${opts.role} certificate names its user`);
      const { issueDeviceCertificate } = await certs();
      const issued = await wrap(() => issueDeviceCertificate(opts.dir, { name, role: opts.role, fleet: opts.fleet }, { days: opts.days }));
      writeSecretFile(`${opts.out}.key`, issued.keyPem);
      writeFileSync(`${opts.out}.crt`, issued.certPem);
      process.stdout.write(`issued ${opts.role} certificate ${issued.serial} for ${name}${opts.fleet ? ` in fleet ${opts.fleet}` : ''}: ${opts.out}.crt, ${opts.out}.key (private: this device's only)\n`);
    });
  cert
    .command('server')
    .description('issue the broker\'s own TLS certificate for its host names and addresses: <out>.crt, <out>.key (mode 600)')
    .requiredOption('--dir <dir>', 'CA folder')
    .option('--host <names>', 'comma-separated host names and IP addresses clients connect to', '127.0.0.1,localhost')
    .option('--days <n>', 'validity', positiveInt, 825)
    .requiredOption('--out <prefix>', 'writes <prefix>.crt and <prefix>.key')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker cert server --dir ca --host broker.local,10.0.0.2 --out ca/broker')
    .action(async (opts: { dir: string; host: string; days: number; out: string }) => {
      const { issueServerCertificate } = await certs();
      const issued = await wrap(() => issueServerCertificate(opts.dir, opts.host.split(',').map((h) => h.trim()).filter(Boolean), { days: opts.days }));
      writeSecretFile(`${opts.out}.key`, issued.keyPem);
      writeFileSync(`${opts.out}.crt`, issued.certPem);
      process.stdout.write(`issued the broker certificate for ${opts.host}: ${opts.out}.crt, ${opts.out}.key\n`);
    });
  cert
    .command('revoke')
    .description('revoke a certificate: adds it to the CA\'s crl.pem, which a broker started with --tls-crl reloads at once')
    .requiredOption('--dir <dir>', 'CA folder')
    .requiredOption('--cert <file>', 'the certificate to revoke')
    .addHelpText('after', '\nExamples:\n  $ fleetmind broker cert revoke --dir ca --cert robot-a1.crt')
    .action(async (opts: { dir: string; cert: string }) => {
      const { revokeCertificate } = await certs();
      const serial = await wrap(() => revokeCertificate(opts.dir, readPem('--cert', opts.cert).toString('utf8')));
      process.stdout.write(`revoked certificate ${serial}; ${opts.dir}/crl.pem updated\n`);
    });
}
