// Secrets stay secret: the users file and every private key are written atomically with mode
// 0600, and a full run — a broker with users and device certificates, agents authenticating
// with passwords and certificates, refused attempts included — never writes a password or a
// private key to any log.

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsersFile, writeSecretFile } from '@fleetmind/broker';
import { CA_FILES, createCertificateAuthority, issueDeviceCertificate, issueServerCertificate } from '@fleetmind/broker/certificates';
import { CLI_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { until } from '../helpers/waiting.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-secrets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a secret file is written atomically with mode 0600, even over a looser existing file', async (t) => {
  const path = join(dir, 'secret.key');
  writeFileSync(path, 'old');
  chmodSync(path, 0o644);
  writeSecretFile(path, 'new secret');
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(readFileSync(path, 'utf8'), 'new secret');
  const users = await UsersFile.load(join(dir, 'users.json'), { createIfMissing: true });
  await users.add({ username: 'a1', role: 'agent', fleet: 'f1', agent: 'a1' }, 'a-long-password-1', { scryptCost: 1024 });
  await users.save();
  t.equal(statSync(join(dir, 'users.json')).mode & 0o777, 0o600, 'the users file');
});

t.test('a full run logs no password and no private key', async (t) => {
  const PASSWORDS = { a1: 'pw-a1-Xq7vRk2mWz9', w1: 'pw-w1-Lp3sDf8hJt6', wrong: 'pw-wrong-Nc5bGy1uVe4' };
  const users = await UsersFile.load(join(dir, 'run-users.json'), { createIfMissing: true });
  await users.add({ username: 'agent_0', role: 'agent', fleet: 'f1', agent: 'agent_0' }, PASSWORDS.a1, { scryptCost: 1024 });
  await users.add({ username: 'w1', role: 'world', fleet: 'f1' }, PASSWORDS.w1, { scryptCost: 1024 });
  await users.save();
  const ca = join(dir, 'ca');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(ca);
  await createCertificateAuthority(ca);
  const server = await issueServerCertificate(ca, ['127.0.0.1']);
  const a2 = await issueDeviceCertificate(ca, { name: 'agent_1', role: 'agent', fleet: 'f1' });
  for (const [name, pem] of [['server.crt', server.certPem], ['server.key', server.keyPem], ['a2.crt', a2.certPem], ['a2.key', a2.keyPem]]) writeFileSync(join(dir, name), pem);

  const logs: string[] = [];
  const children: ChildProcess[] = [];
  t.teardown(() => children.forEach((c) => c.kill('SIGKILL')));
  const run = (args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    children.push(child);
    const k = logs.push('') - 1;
    child.stdout!.on('data', (d) => { logs[k] += d; });
    child.stderr!.on('data', (d) => { logs[k] += d; });
    return { child, log: () => logs[k] };
  };
  const broker = run(['broker', '--users', join(dir, 'run-users.json'), '--port', '0', '--tls-cert', join(dir, 'server.crt'), '--tls-key', join(dir, 'server.key'),
    '--tls-port', '0', '--tls-client-ca', join(ca, CA_FILES.cert), '--tls-crl', join(ca, CA_FILES.crl)]);
  await until(() => /listening on (mqtt:\/\/[\d.]+:\d+).*TLS on (mqtts:\/\/[\d.]+:\d+)/.test(broker.log()), 'the broker listens');
  const [, url, tlsUrl] = /listening on (mqtt:\/\/[\d.]+:\d+).*TLS on (mqtts:\/\/[\d.]+:\d+)/.exec(broker.log())!;
  const bundle = join(REPO_ROOT, 'models', 'zoo', 'spread-commnet');
  const agentArgs = (id: string) => ['agent', '--bundle', bundle, '--agent', id, '--fleet', 'f1', '--adapter', 'mqtt', '--log-level', 'debug'];
  const byPassword = run([...agentArgs('agent_0'), '--broker', url, '--username', 'agent_0'], { FLEETMIND_PASSWORD: PASSWORDS.a1 });
  const byFlag = run([...agentArgs('agent_2'), '--broker', url, '--username', 'agent_0', '--password', PASSWORDS.wrong]);
  const byCertificate = run([...agentArgs('agent_1'), '--broker', tlsUrl, '--tls-ca', join(ca, CA_FILES.cert), '--tls-cert', join(dir, 'a2.crt'), '--tls-key', join(dir, 'a2.key')]);
  await until(() => /agent started/.test(byPassword.log()) && /agent started/.test(byCertificate.log()), 'the agents start');
  await until(() => /bad_password|client_id_mismatch/.test(broker.log()) || byFlag.child.exitCode !== null, 'the wrong password is refused');
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((resolve) => c.once('exit', resolve)))));
  const everything = logs.join('\n');
  t.ok(everything.length > 500, `${everything.length} bytes of logs looked at`);
  for (const [who, pw] of Object.entries(PASSWORDS)) t.notOk(everything.includes(pw), `the ${who} password is in no log`);
  const keyBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  for (const [who, pem] of [['device', a2.keyPem], ['broker', server.keyPem], ['CA', readFileSync(join(ca, CA_FILES.key), 'utf8')]]) {
    const body = keyBody(pem);
    t.notOk(everything.includes(body) || everything.includes(body.slice(0, 40)), `the ${who} private key is in no log`);
  }
});
