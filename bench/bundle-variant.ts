// A copy of a bundle under another version, for the rollout benchmarks: optionally padded to a
// size with a pinned file of incompressible bytes (so the broker carries every one), and with its
// manifest edited (a bad bundle).

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** A copy of `dir` under another version; `edit` may change its manifest, `padBytes` adds a pinned file. */
export function bundleVariant(dir: string, to: string, version: string, padBytes: number, edit?: (m: Record<string, any>) => void): string {
  cpSync(dir, to, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(to, 'manifest.json'), 'utf8')) as Record<string, any>;
  manifest.version = version;
  if (padBytes > 0) {
    // incompressible, so the broker carries every byte
    const pad = createHash('sha256').update(version).digest();
    const bytes = Buffer.alloc(padBytes);
    for (let k = 0; k < padBytes; k += 32) createHash('sha256').update(pad).update(String(k)).digest().copy(bytes, k);
    writeFileSync(join(to, 'padding.bin'), bytes);
    manifest.files['padding.bin'] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: padBytes };
  }
  edit?.(manifest);
  writeFileSync(join(to, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return to;
}

