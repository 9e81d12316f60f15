// An agent's bundles on disk, for over-the-air rollouts:
//   <root>/bundles/<id>/        verified bundles: the running one, the previous one (for a
//                               rollback without a download) and at most one staged
//   <root>/downloads/<id>/      a download in progress: offer.json and one file per chunk
//                               received, so a restart or a broker outage resumes it
//   <root>/state.json           which bundle runs and which ran before (written atomically)
// Disk stays bounded: anything else is deleted whenever the state changes, and an offer larger
// than the store's limit is refused before a byte is fetched.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BundleError, checkBundleFiles } from '@fleetmind/models';
import { z } from 'zod';
import { bundleOfferSchema, parseRolloutJson, type BundleOffer, type RolloutRefusal } from './rollout-plan.js';
import { filesUnder, sha256Hex } from './bundle-offer.js';

const storeStateSchema = z.strictObject({
  current: z.string().nullable(),
  previous: z.string().nullable(),
  /** the last rollout plan acted on: the same retained plan read again after a restart does nothing */
  rollout: z.string().nullable(),
});

export type StoreState = z.infer<typeof storeStateSchema>;

/** A refusal of something a rollout sent, with its reason (counted by the agent) and what went wrong. */
export class RolloutRefused extends Error {
  constructor(readonly reason: RolloutRefusal, message: string) {
    super(message);
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** 256 MiB: far above any policy bundle, far below a Jetson's disk */
export const DEFAULT_MAX_BUNDLE_BYTES = 256 * 2 ** 20;

export class BundleStore {
  private state: StoreState;

  constructor(readonly root: string, readonly maxBundleBytes = DEFAULT_MAX_BUNDLE_BYTES) {
    mkdirSync(join(root, 'bundles'), { recursive: true });
    mkdirSync(join(root, 'downloads'), { recursive: true });
    const path = join(root, 'state.json');
    this.state = existsSync(path)
      ? parseRolloutJson(storeStateSchema, readFileSync(path), `${path} (the bundle store's state)`)
      : { current: null, previous: null, rollout: null };
  }

  get current(): string | null { return this.state.current; }
  get previous(): string | null { return this.state.previous; }
  get lastRollout(): string | null { return this.state.rollout; }

  dir(id: string): string { return join(this.root, 'bundles', id); }
  has(id: string): boolean { return existsSync(join(this.dir(id), 'manifest.json')); }

  /** A stored bundle's name and version, from its manifest ('?' where it is gone). */
  describe(id: string): { name: string; version: string } {
    try {
      const m = JSON.parse(readFileSync(join(this.dir(id), 'manifest.json'), 'utf8')) as { name?: unknown; version?: unknown };
      return { name: String(m.name ?? '?'), version: String(m.version ?? '?') };
    } catch {
      return { name: '?', version: '?' };
    }
  }

  /** Copies a bundle folder in (the one the agent was started with) under its id. */
  adoptFolder(id: string, sourceDir: string): void {
    if (this.has(id)) return;
    const tmp = `${this.dir(id)}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    for (const file of filesUnder(sourceDir)) {
      mkdirSync(dirname(join(tmp, file)), { recursive: true });
      writeFileSync(join(tmp, file), readFileSync(join(sourceDir, file)));
    }
    renameSync(tmp, this.dir(id));
  }

  /** The bundle now running, and the one it replaced; remembers the plan, and deletes the rest. */
  setRunning(id: string, rollout: string | null, keep: string | null = null): void {
    if (id !== this.state.current) this.state = { current: id, previous: this.state.current, rollout };
    else this.state = { ...this.state, rollout };
    this.save();
    this.prune(keep);
  }

  /** A plan acted on without a switch (refused, or nothing to do), so it is not acted on again. */
  markRollout(rollout: string): void {
    this.state = { ...this.state, rollout };
    this.save();
  }

  private save(): void {
    const path = join(this.root, 'state.json');
    writeFileSync(`${path}.tmp`, `${JSON.stringify(this.state)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  /** Deletes every bundle and download but the current, the previous and `keep`. */
  prune(keep: string | null): void {
    const wanted = new Set([this.state.current, this.state.previous, keep].filter((x): x is string => x !== null));
    for (const area of ['bundles', 'downloads']) {
      for (const name of readdirSync(join(this.root, area))) {
        if (!wanted.has(name)) rmSync(join(this.root, area, name), { recursive: true, force: true });
      }
    }
  }

  /** The download of an offer, resumed from the chunks already on disk. */
  download(offer: BundleOffer): Download {
    const total = offer.files.reduce((sum, f) => sum + f.bytes, 0);
    if (total > this.maxBundleBytes) throw new RolloutRefused('too_large', `bundle ${offer.name} ${offer.version} has ${total} bytes, more than this store takes (${this.maxBundleBytes})`);
    return new Download(this, offer);
  }
}

/** One bundle's download: chunks are checked against their sha256 as they arrive and kept on disk. */
export class Download {
  private readonly dir: string;
  private readonly have: boolean[];

  constructor(private readonly store: BundleStore, readonly offer: BundleOffer) {
    this.dir = join(store.root, 'downloads', offer.id);
    mkdirSync(this.dir, { recursive: true });
    const offerPath = join(this.dir, 'offer.json');
    // a different offer under the same id (it cannot be: the id is the manifest's hash) starts afresh
    if (existsSync(offerPath) && JSON.stringify(parseRolloutJson(bundleOfferSchema, readFileSync(offerPath), offerPath)) !== JSON.stringify(offer)) {
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
    }
    writeFileSync(offerPath, JSON.stringify(offer));
    this.have = offer.chunks.map((sha, k) => {
      const path = join(this.dir, `${k}.chunk`);
      return existsSync(path) && sha256Hex(readFileSync(path)) === sha;
    });
  }

  get received(): number { return this.have.filter(Boolean).length; }
  get complete(): boolean { return this.have.every(Boolean); }
  missing(): number[] { return this.have.flatMap((got, k) => (got ? [] : [k])); }

  /** Keeps chunk `index` if its sha256 is the offer's; a wrong one is refused (and fetched again). */
  put(index: number, bytes: Uint8Array): void {
    if (index >= this.offer.chunks.length) throw new RolloutRefused('bad_chunk', `chunk ${index} of bundle ${this.offer.id.slice(0, 12)}: the offer has ${this.offer.chunks.length}`);
    if (this.have[index]) return;
    if (sha256Hex(bytes) !== this.offer.chunks[index]) throw new RolloutRefused('bad_chunk', `chunk ${index} of bundle ${this.offer.id.slice(0, 12)}: its sha256 is not the offer's`);
    writeFileSync(join(this.dir, `${index}.chunk.tmp`), bytes);
    renameSync(join(this.dir, `${index}.chunk.tmp`), join(this.dir, `${index}.chunk`));
    this.have[index] = true;
  }

  /**
   * Puts the files back together, checks each against the offer and the bundle against its own
   * manifest and signature (with the trusted key, a signature is required), and files it under its
   * id. A refusal deletes the download: its bytes are not what was promised. It yields to the event
   * loop between files, so that an agent's ticks go on while a large bundle is put together.
   */
  async finish(trustedKeyPem?: string): Promise<string> {
    const tmp = `${this.store.dir(this.offer.id)}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    try {
      // the files' bytes run across chunk boundaries: read chunk by chunk, write file by file
      let chunk = 0;
      let buffered = Buffer.alloc(0);
      for (const file of this.offer.files) {
        while (buffered.length < file.bytes) {
          buffered = Buffer.concat([buffered, await readFile(join(this.dir, `${chunk++}.chunk`))]);
          await yieldToLoop();
        }
        const bytes = buffered.subarray(0, file.bytes);
        buffered = buffered.subarray(file.bytes);
        if (sha256Hex(bytes) !== file.sha256) throw new RolloutRefused('integrity', `${file.path} of bundle ${this.offer.name} ${this.offer.version}: its sha256 is not the offer's`);
        await mkdir(dirname(join(tmp, file.path)), { recursive: true });
        await writeFile(join(tmp, file.path), bytes);
        await yieldToLoop();
      }
      if (sha256Hex(await readFile(join(tmp, 'manifest.json'))) !== this.offer.id) throw new RolloutRefused('integrity', `the manifest of bundle ${this.offer.name} ${this.offer.version} is not the one its id names`);
      try {
        checkBundleFiles(tmp, { trustedKeyPem, trustedKeyWhere: 'the agent\'s trust key' });
      } catch (err) {
        if (!(err instanceof BundleError)) throw err;
        const reason: RolloutRefusal = /not signed/.test(err.message) ? 'unsigned' : /signature/.test(err.message) ? 'bad_signature' : 'integrity';
        throw new RolloutRefused(reason, err.message.replace(tmp, `bundle ${this.offer.name} ${this.offer.version}`));
      }
      await rm(this.store.dir(this.offer.id), { recursive: true, force: true });
      await rename(tmp, this.store.dir(this.offer.id));
      return this.store.dir(this.offer.id);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      await rm(this.dir, { recursive: true, force: true });
      throw err;
    }
  }
}
