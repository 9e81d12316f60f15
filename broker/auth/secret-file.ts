// Writing a secret (a users file, a private key, a CA's key) so that no one else can read it,
// ever: a temporary file created with mode 0600 in the same folder, then renamed over the
// target — atomic, and the mode holds even when the target existed with a looser one.

import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';

function writeAtomically(path: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function writeSecretFile(path: string, data: string | Uint8Array): void {
  writeAtomically(path, data, 0o600);
}

/** A public file (a certificate, a CRL), also replaced atomically so a reader never sees half of it. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeAtomically(path, data, 0o644);
}
