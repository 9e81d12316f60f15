// Device identity without shared passwords: a CA of the operator's, a certificate per robot,
// mutual TLS, ACLs from the certificate's subject, a revocation list reloaded while running.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type FleetBroker, type RefusalReason } from '@fleetmind/broker';
import { CA_FILES, createCertificateAuthority, issueDeviceCertificate, issueServerCertificate, revokeCertificate } from '@fleetmind/broker/certificates';
import { connect } from '../helpers/mqtt.js';
import { until } from '../helpers/waiting.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-ca-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
await createCertificateAuthority(dir);
const server = await issueServerCertificate(dir, ['127.0.0.1', 'localhost']);
const ca = readFileSync(join(dir, CA_FILES.cert));
const device = async (name: string, role: 'agent' | 'world' | 'admin' = 'agent', fleet: string | undefined = 'f1', options = {}) => issueDeviceCertificate(dir, { name, role, fleet }, options);

const refusals: { reason: RefusalReason; detail: string }[] = [];
let revocationLoads = 0;
const broker: FleetBroker = await startBroker({
  port: 0,
  tls: {
    cert: server.certPem, key: server.keyPem, port: 0, clientCa: ca, crlPath: join(dir, CA_FILES.crl),
    onRevocationsLoaded: () => { revocationLoads++; },
  },
  onRefusal: (e) => refusals.push(e),
});
t.teardown(() => broker.close());

/** connects over mutual TLS as this certificate */
const tlsClient = (cert: { certPem: string; keyPem: string }, clientId: string) =>
  connect(broker.tlsUrl!, { clientId, ca, cert: cert.certPem, key: cert.keyPem, connectTimeout: 3_000 });

t.test('the CA\'s private key and the issued keys are readable by their owner only', async (t) => {
  t.equal(statSync(join(dir, CA_FILES.key)).mode & 0o777, 0o600);
  await t.rejects(createCertificateAuthority(dir), { code: 'FM_ERR_CERT', message: /already holds a CA/ }, 'an existing CA is never replaced');
});

t.test('a robot with its certificate connects without a password and acts as its agent: its own subtree, nobody else\'s', async (t) => {
  const a1 = await device('a1');
  const operator = await device('root', 'admin', undefined);
  const observer = await tlsClient(operator, 'root');
  t.teardown(() => observer.end(true));
  const heard: string[] = [];
  await observer.subscribeAsync('fm/f1/a/+/msg');
  observer.on('message', (topic, p) => heard.push(`${topic} ${p}`));
  const robot = await tlsClient(a1, 'a1');
  t.teardown(() => robot.end(true));
  const deniedBefore = refusals.filter((r) => r.reason === 'publish_denied').length;
  robot.publish('fm/f1/a/a1/msg', 'hello from a1');
  robot.publish('fm/f1/a/a2/msg', 'pretending to be a2');
  await until(() => heard.length > 0 && refusals.filter((r) => r.reason === 'publish_denied').length > deniedBefore, 'a1 is heard and its forgery refused');
  t.same(heard, ['fm/f1/a/a1/msg hello from a1'], 'a certificate for a1 cannot publish as a2');
});

t.test('a certificate for a1 cannot take a2\'s client id', async (t) => {
  const a1 = await device('a1');
  await t.rejects(tlsClient(a1, 'a2'), { code: 2 }, 'CONNACK 2: identifier rejected');
  t.ok(refusals.some((r) => r.reason === 'client_id_mismatch' && /certificate "a1"/.test(r.detail)));
});

t.test('a client without a certificate, or with one from another CA, is refused in the handshake, and it is said why', async (t) => {
  await t.rejects(connect(broker.tlsUrl!, { clientId: 'nocert', ca, connectTimeout: 3_000 }));
  const other = mkdtempSync(join(tmpdir(), 'fm-ca-other-'));
  t.teardown(() => rmSync(other, { recursive: true, force: true }));
  await createCertificateAuthority(other);
  const stranger = await issueDeviceCertificate(other, { name: 'a1', role: 'agent', fleet: 'f1' });
  await t.rejects(tlsClient(stranger, 'a1'));
  await until(() => refusals.filter((r) => r.reason === 'tls_handshake').length >= 2, 'both handshakes are refused and counted');
});

t.test('an expired certificate is refused with a clear reason', async (t) => {
  const old = await device('a3', 'agent', 'f1', { days: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) });
  const before = refusals.length;
  await t.rejects(tlsClient(old, 'a3'));
  await until(() => refusals.slice(before).some((r) => r.reason === 'tls_handshake'), 'the handshake refusal is reported');
  t.match(refusals.slice(before).find((r) => r.reason === 'tls_handshake')!.detail, /"CN=a3, O=f1, OU=agent" refused: CERT_HAS_EXPIRED/);
});

t.test('a revoked certificate is refused once the list is rewritten, without restarting the broker', async (t) => {
  const a4 = await device('a4');
  const first = await tlsClient(a4, 'a4');
  first.end(true);
  const loads = revocationLoads;
  await revokeCertificate(dir, a4.certPem);
  await until(() => revocationLoads > loads, 'the broker reloads the revocation list');
  const before = refusals.length;
  await t.rejects(tlsClient(a4, 'a4'), 'refused after revocation');
  await until(() => refusals.slice(before).some((r) => r.reason === 'tls_handshake'), 'the refusal is reported');
  t.match(refusals.slice(before).find((r) => r.reason === 'tls_handshake')!.detail, /"CN=a4, O=f1, OU=agent" refused: CERT_REVOKED/);
  const a5 = await device('a5');
  const other = await tlsClient(a5, 'a5');
  t.ok(other.connected, 'other devices still get in');
  other.end(true);
});

t.test('a broken revocation list keeps the previous one and says so', async (t) => {
  const errors: Error[] = [];
  const crl = join(dir, 'broken-crl.pem');
  writeFileSync(crl, readFileSync(join(dir, CA_FILES.crl)));
  const b = await startBroker({ port: 0, tls: { cert: server.certPem, key: server.keyPem, port: 0, clientCa: ca, crlPath: crl }, onError: (e) => errors.push(e) });
  t.teardown(() => b.close());
  writeFileSync(crl, 'not a CRL at all');
  await until(() => errors.length > 0, 'the bad list is reported');
  t.match(errors[0].message, /cannot reload the revocation list .*keeping the previous one/);
  const a6 = await device('a6');
  const c = await connect(b.tlsUrl!, { clientId: 'a6', ca, cert: a6.certPem, key: a6.keyPem, connectTimeout: 3_000 });
  t.ok(c.connected, 'the broker still serves with the previous list');
  c.end(true);
});
