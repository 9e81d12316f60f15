// A bundle folder as a rollout offers it: its files in path order, concatenated and cut into
// chunks small enough for the broker's packet limit, each with its sha256, and the bundle's id
// (the sha256 of its manifest.json). Both ends use this: the operator to publish, the agent to
// put the bytes back into files.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkBundleFiles, type Manifest } from '@fleetmind/models';
import type { BundleOffer } from './rollout-plan.js';

/** A chunk fits the embedded broker's default 64 KiB packet with room for its topic and header. */
export const DEFAULT_CHUNK_BYTES = 48 * 1024;

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * What agents of one team must share to understand each other's messages within a round: the
 * message size, its quantization, the rounds and the inbox. Bundles with the same layout can run
 * side by side in one team.
 */
export function bundleLayout(manifest: Manifest): string {
  const c = manifest.communication;
  return c ? `messages ${c.message_size} × ${c.quantization}, ${c.rounds} round${c.rounds === 1 ? '' : 's'}, inbox ${c.inbox_capacity}` : 'no messages';
}

/** Every file under a folder, as paths relative to it. */
export function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

export interface PackedBundle {
  offer: BundleOffer;
  /** chunk n's bytes */
  chunk(index: number): Uint8Array;
  totalBytes: number;
}

/** Checks the bundle (files against the manifest, the signature if present) and cuts it into chunks. */
export function packBundle(dir: string, chunkBytes = DEFAULT_CHUNK_BYTES, trustedKeyPem?: string): PackedBundle {
  const { manifest } = checkBundleFiles(dir, { trustedKeyPem });
  const paths = filesUnder(dir).sort();
  const contents = paths.map((path) => readFileSync(join(dir, path)));
  const all = Buffer.concat(contents);
  const count = Math.max(1, Math.ceil(all.length / chunkBytes));
  const chunk = (index: number) => all.subarray(index * chunkBytes, Math.min(all.length, (index + 1) * chunkBytes));
  const offer: BundleOffer = {
    id: sha256Hex(readFileSync(join(dir, 'manifest.json'))),
    name: manifest.name,
    version: manifest.version,
    files: paths.map((path, k) => ({ path, bytes: contents[k].length, sha256: sha256Hex(contents[k]) })),
    chunk_bytes: chunkBytes,
    chunks: Array.from({ length: count }, (_, k) => sha256Hex(chunk(k))),
    layout: bundleLayout(manifest),
  };
  return { offer, chunk, totalBytes: all.length };
}

/** A bundle folder's id: the sha256 of its manifest.json. */
export function bundleId(dir: string): string {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a bundle folder`);
  return sha256Hex(readFileSync(join(dir, 'manifest.json')));
}
