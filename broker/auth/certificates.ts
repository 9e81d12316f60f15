// Device identity without shared passwords: a certificate authority of the operator's, a
// certificate per robot whose subject names it (CN = agent or user name, O = fleet, OU = role),
// and a certificate revocation list. Built on @peculiar/x509 over Node's WebCrypto (ECDSA P-256,
// SHA-256): no hand-written ASN.1. The broker reads the identity from a verified client
// certificate (principalFromSubject) and applies the same ACLs as to a password user.

// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { isValidId } from '@fleetmind/wire';
import { ROLES, type Role } from './users-file.js';
import { writeFileAtomic, writeSecretFile } from './secret-file.js';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export class CertificateError extends Error {
  readonly code = 'FM_ERR_CERT';
}

/** The files of a CA folder: ca.crt (public), ca.key (mode 0600), crl.pem (the revocations). */
export const CA_FILES = { cert: 'ca.crt', key: 'ca.key', crl: 'crl.pem' } as const;

interface Issued {
  certPem: string;
  keyPem: string;
  /** hex serial number, as a CRL lists it */
  serial: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function privatePem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function importPrivatePem(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALGORITHM, true, ['sign']);
}

/** 16 random bytes, the first bit clear (a positive integer, as X.509 requires) */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** An X.500 name string; the values are ids (checked), so nothing in them needs escaping. */
function nameOf(fields: { CN: string; O?: string; OU?: string }): string {
  return Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Makes a CA in `dir` (refuses to overwrite one) and an empty revocation list. */
export async function createCertificateAuthority(dir: string, { name = 'fleetmind device CA', days = 3650 } = {}): Promise<{ certPem: string }> {
  if (existsSync(join(dir, CA_FILES.key))) throw new CertificateError(`${dir} already holds a CA (${CA_FILES.key}); refusing to replace it`);
  const keys = await keyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: nameOf({ CN: name }),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeSecretFile(join(dir, CA_FILES.key), await privatePem(keys.privateKey));
  writeFileAtomic(join(dir, CA_FILES.cert), cert.toString('pem'));
  await writeCrl(dir, cert, keys.privateKey, []);
  return { certPem: cert.toString('pem') };
}

function loadCa(dir: string): { cert: x509.X509Certificate; keyPem: string } {
  for (const f of [CA_FILES.cert, CA_FILES.key]) {
    if (!existsSync(join(dir, f))) throw new CertificateError(`${dir} is not a CA folder (no ${f}; make one with \`fleetmind broker cert ca\`)`);
  }
  return { cert: new x509.X509Certificate(readFileSync(join(dir, CA_FILES.cert), 'utf8')), keyPem: readFileSync(join(dir, CA_FILES.key), 'utf8') };
}

export interface DeviceIdentity {
  /** agent id for an agent, the user name for world and admin */
  name: string;
  role: Role;
  /** every role but admin belongs to a fleet */
  fleet?: string;
}

/** Issues a client certificate for a robot (or a world server, an operator) signed by the CA in `caDir`. */
export async function issueDeviceCertificate(caDir: string, who: DeviceIdentity, { days = 365, notBefore }: { days?: number; notBefore?: Date } = {}): Promise<Issued> {
  if (!isValidId(who.name)) throw new CertificateError(`name ${JSON.stringify(who.name)} is not a valid id`);
  if (!ROLES.includes(who.role)) throw new CertificateError(`role ${JSON.stringify(who.role)} is not one of ${ROLES.join(', ')}`);
  if (who.role !== 'admin' && (!who.fleet || !isValidId(who.fleet))) throw new CertificateError(`a ${who.role} certificate needs a valid fleet id`);
  return issue(caDir, nameOf({ CN: who.name, O: who.fleet, OU: who.role }), [x509.ExtendedKeyUsage.clientAuth], [], days, notBefore);
}

/** Issues the broker's own TLS certificate for these host names and IP addresses. */
export async function issueServerCertificate(caDir: string, hosts: string[], { days = 825 } = {}): Promise<Issued> {
  const ip = /^[\d.]+$|:/;
  const names = hosts.map((h) => ({ type: ip.test(h) ? 'ip' : 'dns', value: h }) as x509.JsonGeneralName);
  return issue(caDir, nameOf({ CN: hosts[0] ?? 'fleetmind broker' }), [x509.ExtendedKeyUsage.serverAuth], [new x509.SubjectAlternativeNameExtension(names)], days);
}

async function issue(caDir: string, subject: string, usages: string[], extra: x509.Extension[], days: number, notBefore?: Date): Promise<Issued> {
  const ca = loadCa(caDir);
  const caKey = await importPrivatePem(ca.keyPem);
  const keys = await keyPair();
  const start = notBefore ?? new Date(Date.now() - 60_000);
  const serial = serialNumber();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject,
    issuer: ca.cert.subject,
    notBefore: start,
    notAfter: new Date(start.getTime() + days * DAY_MS),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
      ...extra,
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privatePem(keys.privateKey), serial };
}

/** Adds a certificate to the CA's revocation list (crl.pem, rewritten atomically); returns its serial. */
export async function revokeCertificate(caDir: string, certPem: string): Promise<string> {
  const ca = loadCa(caDir);
  const cert = new x509.X509Certificate(certPem);
  if (cert.issuer !== ca.cert.subject) throw new CertificateError(`the certificate was issued by "${cert.issuer}", not by this CA ("${ca.cert.subject}")`);
  const revoked = revokedSerials(caDir);
  if (!revoked.includes(cert.serialNumber)) revoked.push(cert.serialNumber);
  await writeCrl(caDir, ca.cert, await importPrivatePem(ca.keyPem), revoked);
  return cert.serialNumber;
}

/** The serial numbers the CA's list revokes (hex). */
export function revokedSerials(caDir: string): string[] {
  const path = join(caDir, CA_FILES.crl);
  if (!existsSync(path)) return [];
  return new x509.X509Crl(readFileSync(path, 'utf8')).entries.map((e) => e.serialNumber);
}

/** How many certificates a CRL file revokes. */
export function countRevoked(crlPath: string): number {
  return new x509.X509Crl(readFileSync(crlPath, 'utf8')).entries.length;
}

async function writeCrl(dir: string, caCert: x509.X509Certificate, caKey: CryptoKey, serials: string[]): Promise<void> {
  const now = new Date();
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    thisUpdate: new Date(now.getTime() - 60_000),
    nextUpdate: new Date(now.getTime() + 30 * DAY_MS),
    entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: now })),
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCert, false)],
  });
  // OpenSSL (and so Node's TLS) reads the RFC 7468 label "X509 CRL"; the library writes "CRL"
  writeFileAtomic(join(dir, CA_FILES.crl), crl.toString('pem').replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----'));
}
