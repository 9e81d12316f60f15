// Ed25519 signatures over manifest.json (node:crypto). The manifest pins every file's sha256,
// so one signature covers the bundle; a robot given its operator's public key refuses a bundle
// that is unsigned or signed by anyone else.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BundleError } from './manifest.js';

export const SIGNATURE_FILE = 'signature.json';

const signatureSchema = z.object({
  algorithm: z.literal('ed25519'),
  /** the signer's public key (SPKI PEM), for information: trust comes from the key the verifier holds */
  public_key: z.string(),
  /** base64 Ed25519 signature of manifest.json's exact bytes */
  signature: z.string().regex(/^[A-Za-z0-9+/]+=*$/),
});

export interface KeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

export function generateSigningKeys(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function readKey(pem: string, kind: 'public' | 'private', where: string): KeyObject {
  // createPublicKey would derive the public half from a private key and carry on: a private key
  // handed to a verifier is a leak waiting to happen (it would be copied to every robot)
  if (kind === 'public' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new BundleError(`${where} is a private key: verifiers and robots take the public key (the .pub file); the private key stays with whoever signs`);
  }
  try {
    const key = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`it is a ${key.asymmetricKeyType} key`);
    return key;
  } catch (err) {
    throw new BundleError(`${where} is not an Ed25519 ${kind} key in PEM: ${(err as Error).message}`);
  }
}

/** Signs dir/manifest.json with a private key (PEM) and writes dir/signature.json. */
export function signBundle(dir: string, privateKeyPem: string, keyWhere = 'the key'): void {
  const key = readKey(privateKeyPem, 'private', keyWhere);
  const manifest = readFileSync(join(dir, 'manifest.json'));
  const signature = sign(null, manifest, key).toString('base64');
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(dir, SIGNATURE_FILE), `${JSON.stringify({ algorithm: 'ed25519', public_key: publicKey, signature }, null, 2)}\n`);
}

export type SignatureStatus = 'unsigned' | 'signed' | 'trusted';

/**
 * With a trusted public key: the bundle must be signed by exactly that key, or this throws.
 * Without one: reports whether a (well-formed) signature is present and valid for its own key.
 */
export function checkSignature(dir: string, manifestBytes: Buffer, trustedKeyPem?: string, keyWhere = 'the trusted key'): SignatureStatus {
  const path = join(dir, SIGNATURE_FILE);
  const trusted = trustedKeyPem === undefined ? null : readKey(trustedKeyPem, 'public', keyWhere); // a bad key is the first news
  if (!existsSync(path)) {
    if (trustedKeyPem) throw new BundleError(`${dir} is not signed (no ${SIGNATURE_FILE}) and a trusted key was given: refusing it`);
    return 'unsigned';
  }
  let parsed;
  try {
    parsed = signatureSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new BundleError(`${path} is malformed: ${(err as Error).message.split('\n')[0]}`);
  }
  const signature = Buffer.from(parsed.signature, 'base64');
  if (trusted) {
    if (!verify(null, manifestBytes, trusted, signature)) {
      throw new BundleError(`${dir}: the signature does not verify with ${keyWhere}: the bundle was signed by another key or its manifest changed after signing`);
    }
    return 'trusted';
  }
  if (!verify(null, manifestBytes, readKey(parsed.public_key, 'public', `${SIGNATURE_FILE}'s public_key`), signature)) {
    throw new BundleError(`${dir}: the signature does not match manifest.json: the manifest changed after signing`);
  }
  return 'signed';
}
