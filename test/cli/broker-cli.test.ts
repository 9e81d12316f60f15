import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { connect } from '../helpers/mqtt.js';

t.test('broker users are managed from the command line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const users = join(dir, 'users.json');
  let r = runCli(['broker', 'user', 'add', '--users', users, '--username', 'a1', '--role', 'agent', '--fleet', 'f1', '--agent', 'a1', '--password-stdin'], 'stdin-password\n');
  t.equal(r.code, 0, r.stderr);
  r = runCli(['broker', 'user', 'add', '--users', users, '--username', 'w1', '--role', 'world', '--fleet', 'f1', '--password', 'world-password']);
  t.equal(r.code, 0, r.stderr);
  r = runCli(['broker', 'user', 'add', '--users', users, '--username', 'x', '--role', 'agent', '--fleet', 'f1', '--password', 'abcdefgh1']);
  t.equal(r.code, 2);
  t.match(r.stderr, /agent: an agent user needs an agent id/);
  r = runCli(['broker', 'user', 'add', '--users', users, '--username', 'a1', '--role', 'admin', '--password', 'abcdefgh1']);
  t.match(r.stderr, /already exists/);
  t.same(JSON.parse(runCli(['broker', 'user', 'list', '--users', users, '--json']).stdout).map((u: { username: string }) => u.username), ['a1', 'w1']);
  t.equal(runCli(['broker', 'user', 'remove', '--users', users, '--username', 'w1']).code, 0);
  t.match(runCli(['broker', 'user', 'list', '--users', users]).stdout, /a1\s+agent\s+f1\s+a1/);
  t.match(runCli(['broker', 'user', 'remove', '--users', users, '--username', 'w1']).stderr, /no user "w1"/);
  t.end();
});

t.test('fleetmind broker serves MQTT with auth and metrics, and stops cleanly on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-broker-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const users = join(dir, 'users.json');
  runCli(['broker', 'user', 'add', '--users', users, '--username', 'a1', '--role', 'agent', '--fleet', 'f1', '--agent', 'a1', '--password', 'agent-password']);
  const proc = spawn(process.execPath, [CLI_MAIN, 'broker', '--users', users, '--port', '0', '--metrics-port', '0'], { cwd: REPO_ROOT });
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const banner = await new Promise<string>((resolve) => proc.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); }));
  const [, url, metricsPort] = /listening on (mqtt:\/\/[\d.]+:\d+).*metrics on http:\/\/[\d.]+:(\d+)\/metrics/.exec(banner)!;
  const c = await connect(url, { clientId: 'a1', username: 'a1', password: 'agent-password' });
  await t.rejects(connect(url, { clientId: 'a1:x', username: 'a1', password: 'nope-nope' }), { code: 4 });
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  t.match(metrics, /fleetmind_broker_connections 1/);
  t.match(metrics, /fleetmind_broker_refusals_total\{reason="bad_password"\} 1/);
  c.end(true);
  const code = await new Promise<number | null>((resolve) => { proc.on('exit', resolve); proc.kill('SIGTERM'); });
  t.equal(code, 0);
  t.match(out, /stopping/);
  t.match(err, /"event":"refused".*"reason":"bad_password"/, 'refusals are logged as JSON lines');
});

t.test('fleetmind broker refuses unsafe or incomplete settings in one line', (t) => {
  const cases: [string[], RegExp][] = [
    [['broker', '--port', '0'], /give --users FILE, --tls-client-ca FILE \(device certificates\), or --allow-anonymous/],
    [['broker', '--allow-anonymous', '--host', '0.0.0.0', '--port', '0'], /loopback only/],
    [['broker', '--allow-anonymous', '--port', '70000'], /expected a port number/],
    [['broker', '--users', '/nonexistent/users.json', '--port', '0'], /cannot read users file/],
    [['broker', '--allow-anonymous', '--port', '0', '--tls-cert', 'x.pem'], /--tls-cert and --tls-key go together/],
    [['broker', '--allow-anonymous', '--port', '0', '--tls-cert', 'x.pem', '--tls-key', 'y.pem'], /cannot read --tls-cert x\.pem: ENOENT/],
    [['broker', '--allow-anonymous', '--port', '0', '--redis', 'redis://127.0.0.1:1'], /^fleetmind: error: cannot reach Redis at 127\.0\.0\.1:1 within 3 s \(connect ECONNREFUSED 127\.0\.0\.1:1\) \[FM_ERR_BROKER\]\n$/],
    [['broker', '--allow-anonymous', '--port', '0', '--max-clients', '0'], /--max-clients.*expected a positive integer, got "0"/],
    [['broker', '--allow-anonymous', '--port', '0', '--max-packet-size', '64k'], /--max-packet-size.*expected a positive integer, got "64k"/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  t.end();
});

t.test('fleetmind broker takes packet sizes and client counts above 65535 (they are not ports)', async (t) => {
  const proc = spawn(process.execPath, [CLI_MAIN, 'broker', '--allow-anonymous', '--port', '0', '--max-packet-size', '1048576', '--max-clients', '100000'], { cwd: REPO_ROOT });
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const banner = await new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
    proc.once('exit', (code) => reject(new Error(`broker exited ${code}: ${err}`)));
  });
  const [, url] = /listening on (mqtt:\/\/[\d.]+:\d+)/.exec(banner)!;
  const c = await connect(url, { clientId: 'big' });
  await c.subscribeAsync('fm/f1/ctl');
  const got = new Promise<number>((resolve) => c.once('message', (_topic, payload) => resolve(payload.length)));
  c.publish('fm/f1/ctl', Buffer.alloc(100_000));
  t.equal(await got, 100_000, 'a 100 kB packet passes a 1 MiB limit (the old parser capped it at 65535)');
  c.end(true);
});

t.test('fleetmind broker cert: a CA, a device certificate with a private key only its owner reads, a revocation', async (t) => {
  const { statSync, readFileSync: read } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-cert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca');
  let r = runCli(['broker', 'cert', 'ca', '--dir', ca]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /made a device CA in .*ca\.key \(private: keep it off robots and brokers\)/);
  t.equal(statSync(join(ca, 'ca.key')).mode & 0o777, 0o600);
  r = runCli(['broker', 'cert', 'ca', '--dir', ca]);
  t.equal(r.code, 2, 'an existing CA is never replaced');
  t.match(r.stderr, /already holds a CA/);
  r = runCli(['broker', 'cert', 'issue', '--dir', ca, '--fleet', 'f1', '--agent', 'a1', '--out', join(dir, 'robot-a1')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /issued agent certificate [0-9a-f]+ for a1 in fleet f1/);
  t.equal(statSync(join(dir, 'robot-a1.key')).mode & 0o777, 0o600);
  t.match(read(join(dir, 'robot-a1.crt'), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  r = runCli(['broker', 'cert', 'issue', '--dir', ca, '--fleet', 'f1', '--out', join(dir, 'nobody')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--agent: an agent certificate names its agent/);
  r = runCli(['broker', 'cert', 'issue', '--dir', ca, '--fleet', 'f 1', '--agent', 'a1', '--out', join(dir, 'bad')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /needs a valid fleet id/);
  r = runCli(['broker', 'cert', 'revoke', '--dir', ca, '--cert', join(dir, 'robot-a1.crt')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /revoked certificate [0-9a-f]+; .*crl\.pem updated/);
  r = runCli(['broker', '--tls-client-ca', join(ca, 'ca.crt'), '--port', '0']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--tls-client-ca and --tls-crl need TLS on/);
});
