// Reading a flight recording back: the metadata and every message, in order. A file cut short
// by a crash (no summary, no footer, a chunk half written) reads up to its last whole record
// and says it was truncated; anything else that is not a fleetmind MCAP file is refused with
// the reason.

import { readFileSync } from 'node:fs';
import { McapStreamReader } from '@mcap/core';
import zstd from '@foxglove/wasm-zstd';
import { decodeCounterRecord, decodeTickRecord, decodeWorldStepRecord, WireError, type RecordedTick, type WorldStepRecord } from '@fleetmind/wire';
import { RECORDING_METADATA_NAME, RecordingError, TOPICS, type RecordingMetadata } from './flight-recorder.js';

export interface Recording {
  path: string;
  metadata: RecordingMetadata;
  ticks: RecordedTick[];
  counters: { atUs: number; values: Record<string, number> }[];
  world: WorldStepRecord[];
  /** the file ends before its footer: the writer was killed (what it held is all here) */
  truncated: boolean;
}

export async function readRecording(path: string): Promise<Recording> {
  await zstd.isLoaded;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new RecordingError(`${path}: ${(err as Error).message}`);
  }
  const reader = new McapStreamReader({
    decompressHandlers: { zstd: (buffer, size) => zstd.decompress(buffer, Number(size)) },
    validateCrcs: true,
  });
  const recording: Recording = { path, metadata: {}, ticks: [], counters: [], world: [], truncated: false };
  const topicOf = new Map<number, string>();
  let sawMetadata = false;
  try {
    reader.append(bytes);
    for (let record = reader.nextRecord(); record; record = reader.nextRecord()) {
      if (record.type === 'Metadata' && record.name === RECORDING_METADATA_NAME) {
        recording.metadata = Object.fromEntries(record.metadata);
        sawMetadata = true;
      } else if (record.type === 'Channel') {
        topicOf.set(record.id, record.topic);
      } else if (record.type === 'Message') {
        const topic = topicOf.get(record.channelId);
        const atUs = Number(record.logTime / 1000n);
        try {
          if (topic === TOPICS.tick) recording.ticks.push(decodeTickRecord(record.data));
          else if (topic === TOPICS.counters) recording.counters.push({ atUs, values: decodeCounterRecord(record.data) });
          else if (topic === TOPICS.world) recording.world.push(decodeWorldStepRecord(record.data));
        } catch (err) {
          if (err instanceof WireError) throw new RecordingError(`${path}: message ${record.sequence} on ${topic}: ${err.message}`);
          throw err;
        }
      }
    }
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    throw new RecordingError(`${path} is not a readable MCAP file: ${(err as Error).message}`);
  }
  if (!sawMetadata) throw new RecordingError(`${path} has no "${RECORDING_METADATA_NAME}" metadata: not a fleetmind recording`);
  recording.truncated = !reader.done();
  return recording;
}
