// The flight recorder: an agent's ticks written as MCAP files (the ROS 2 bag format) with
// fleetmind.proto as their protobuf schema, so Foxglove and the `mcap` tools read them and
// `fleetmind replay` makes every decision again. Messages go into zstd-compressed chunks
// written straight to the file: a SIGKILL loses at most the chunk being filled, and a file
// without its footer still reads up to its last whole chunk. Files rotate by size and age, and
// the oldest go first when the folder passes its disk budget.

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { McapWriter, type IWritable } from '@mcap/core';
import zstd from '@foxglove/wasm-zstd';
import { encodeCounterRecord, encodeTickRecord, encodeWorldStepRecord, protoDescriptorSet, RECORD_SCHEMAS, type RecordedTick, type WorldStepRecord } from '@fleetmind/wire';

export interface RecorderSettings {
  /** the folder the files go in (made if missing) */
  dir: string;
  /** file name prefix, e.g. the agent id */
  prefix: string;
  /** start a new file past this many bytes (default 64 MiB) */
  maxFileBytes?: number;
  /** start a new file after this long (default 1 hour) */
  maxFileAgeMs?: number;
  /** delete the oldest of this prefix's files while they hold more than this (default 1 GiB) */
  budgetBytes?: number;
  /** uncompressed bytes per chunk: what a crash can lose at most (default 64 KiB) */
  chunkBytes?: number;
  /** zstd (default) or none */
  compression?: 'zstd' | 'none';
  /** ms since the epoch, for file ages (default Date.now; a test turns it by hand) */
  clock?: () => number;
}

/** Written once at the start of every file (an MCAP metadata record named "fleetmind"). */
export type RecordingMetadata = Record<string, string>;

export const RECORDING_METADATA_NAME = 'fleetmind';

/** A recording that cannot be written or read, with the file and the reason. */
export class RecordingError extends Error {
  readonly code = 'FM_ERR_RECORDING';
}
export const TOPICS = { tick: '/fleetmind/tick', counters: '/fleetmind/counters', world: '/fleetmind/world' } as const;

export interface RecorderStats {
  files: number;
  bytes: number;
  messages: number;
  /** files deleted to stay within the budget */
  deleted: number;
  /** records lost to a write error (the disk filled up, …); the agent goes on */
  failed: number;
}

/** A file the writer appends to synchronously: a chunk reaches the kernel as soon as it is cut. */
class AppendFile implements IWritable {
  private bytes = 0n;
  constructor(private readonly fd: number) {}
  async write(buffer: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(this.fd, buffer, offset, buffer.length - offset);
    this.bytes += BigInt(buffer.length);
  }
  position(): bigint {
    return this.bytes;
  }
}

interface OpenFile {
  path: string;
  fd: number;
  file: AppendFile;
  writer: McapWriter;
  channels: Record<keyof typeof TOPICS, number>;
  openedAt: number;
}

export class FlightRecorder {
  readonly stats: RecorderStats = { files: 0, bytes: 0, messages: 0, deleted: 0, failed: 0 };
  private current: OpenFile | null = null;
  /** every write goes through this chain, so records stay in order and ticks never wait */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private sequence = 0;
  private readonly maxFileBytes: number;
  private readonly maxFileAgeMs: number;
  private readonly budgetBytes: number;
  private readonly chunkBytes: number;
  private readonly now: () => number;
  /** the last write error reported, so a full disk is said once, not every tick */
  private lastError = '';

  private constructor(private readonly settings: RecorderSettings, private metadata: RecordingMetadata, private readonly onError: (err: Error) => void) {
    this.maxFileBytes = settings.maxFileBytes ?? 64 * 2 ** 20;
    this.maxFileAgeMs = settings.maxFileAgeMs ?? 3_600_000;
    this.budgetBytes = settings.budgetBytes ?? 2 ** 30;
    this.chunkBytes = settings.chunkBytes ?? 64 * 2 ** 10;
    this.now = settings.clock ?? Date.now;
    if (this.budgetBytes < this.maxFileBytes) throw new RecordingError(`recording budget ${this.budgetBytes} bytes is smaller than one file (${this.maxFileBytes} bytes)`);
  }

  /** Opens the first file; throws (clearly) when the folder cannot be written. */
  static async open(settings: RecorderSettings, metadata: RecordingMetadata, onError: (err: Error) => void = () => {}): Promise<FlightRecorder> {
    if ((settings.compression ?? 'zstd') === 'zstd') await zstd.isLoaded;
    const recorder = new FlightRecorder(settings, metadata, onError);
    try {
      mkdirSync(settings.dir, { recursive: true });
      await recorder.rotate();
    } catch (err) {
      throw new RecordingError(`cannot record in ${settings.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return recorder;
  }

  /** the file being written */
  get path(): string | null {
    return this.current?.path ?? null;
  }

  tick(record: RecordedTick, atUs: number): void {
    this.add('tick', encodeTickRecord(record), atUs);
  }

  counters(counters: Record<string, number>, atUs: number): void {
    this.add('counters', encodeCounterRecord(counters), atUs);
  }

  world(record: WorldStepRecord, atUs: number): void {
    this.add('world', encodeWorldStepRecord(record), atUs);
  }

  /**
   * Every record from now on goes into a new file with this metadata (the agent switched bundles:
   * a file names the one bundle that made its ticks, so replay can make them again).
   */
  startNewFile(metadata: RecordingMetadata): void {
    if (this.closed) return;
    this.queue = this.queue.then(async () => {
      if (!this.current) return; // abandoned
      this.metadata = metadata;
      try {
        await this.rotate();
      } catch (err) {
        this.stats.failed++;
        this.onError(err as Error);
      }
    });
  }

  /** Finishes the file (summary and footer) and waits for every record to be written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue = this.queue.then(() => this.finish());
    await this.queue;
  }

  /**
   * A crash, for the simulator's kill: the file is closed as it stands (no last chunk, no
   * footer), exactly what a SIGKILL leaves.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    const f = this.current;
    this.current = null;
    if (f) {
      closeSync(f.fd);
      this.stats.bytes += Number(f.file.position());
    }
  }

  private add(topic: keyof typeof TOPICS, data: Uint8Array, atUs: number): void {
    if (this.closed) return;
    const time = BigInt(Math.round(atUs)) * 1000n; // MCAP times are ns
    const madeAt = this.now(); // a file's age is judged by when its records were made, not written
    this.queue = this.queue.then(async () => {
      try {
        const f = this.current;
        if (!f) return; // abandoned
        if (Number(f.file.position()) >= this.maxFileBytes || madeAt - f.openedAt >= this.maxFileAgeMs) await this.rotate(madeAt);
        const open = this.current!;
        await open.writer.addMessage({ channelId: open.channels[topic], sequence: this.stats.messages, logTime: time, publishTime: time, data });
        this.stats.messages++;
      } catch (err) {
        this.stats.failed++;
        if ((err as Error).message !== this.lastError) this.onError(err as Error);
        this.lastError = (err as Error).message;
      }
    });
  }

  private async rotate(openedAt = this.now()): Promise<void> {
    await this.finish();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let path = '';
    let fd = -1;
    // a restart within the same millisecond (a simulated crash) takes the next sequence number
    while (fd < 0) {
      path = join(this.settings.dir, `${this.settings.prefix}-${stamp}-${String(this.sequence++).padStart(4, '0')}.mcap`);
      try {
        fd = openSync(path, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    const file = new AppendFile(fd);
    const compress = (this.settings.compression ?? 'zstd') === 'zstd';
    const writer = new McapWriter({
      writable: file,
      chunkSize: this.chunkBytes,
      // level −1 ("fast"): a robot's records are mostly int8 messages, which compress about as well
      // at −1 as at 3 (0.67 against 0.66 of their size) in a fifth of the CPU
      compressChunk: compress ? (data) => ({ compression: 'zstd', compressedData: zstd.compress(data, -1) }) : undefined,
    });
    await writer.start({ profile: '', library: 'fleetmind' });
    await writer.addMetadata({ name: RECORDING_METADATA_NAME, metadata: new Map(Object.entries(this.metadata)) });
    const schemaData = protoDescriptorSet();
    const channels = {} as Record<keyof typeof TOPICS, number>;
    for (const key of Object.keys(TOPICS) as (keyof typeof TOPICS)[]) {
      const schemaId = await writer.registerSchema({ name: RECORD_SCHEMAS[key], encoding: 'protobuf', data: schemaData });
      channels[key] = await writer.registerChannel({ topic: TOPICS[key], schemaId, messageEncoding: 'protobuf', metadata: new Map() });
    }
    this.current = { path, fd, file, writer, channels, openedAt };
    this.stats.files++;
    this.enforceBudget();
  }

  /** Ends the current file: the last chunk, the summary and the footer. */
  private async finish(): Promise<void> {
    const f = this.current;
    if (!f) return;
    this.current = null;
    try {
      await f.writer.end();
      fsyncSync(f.fd);
    } finally {
      closeSync(f.fd);
      this.stats.bytes += Number(f.file.position());
    }
  }

  /** Deletes this prefix's oldest finished files while they hold more than the budget. */
  private enforceBudget(): void {
    const mine = readdirSync(this.settings.dir)
      .filter((name) => name.startsWith(`${this.settings.prefix}-`) && name.endsWith('.mcap'))
      .sort()
      .map((name) => ({ path: join(this.settings.dir, name), bytes: statSync(join(this.settings.dir, name)).size }));
    let total = mine.reduce((sum, f) => sum + f.bytes, 0) + this.maxFileBytes; // room for the file being written
    for (const f of mine) {
      if (total <= this.budgetBytes || f.path === this.current?.path) break;
      unlinkSync(f.path);
      total -= f.bytes;
      this.stats.deleted++;
    }
  }
}
