// Replaying a flight recording: every recorded tick's inputs — the observation and, round by
// round, the inbox the graph was given — go through a bundle's graphs again, and each action is
// compared with the one the policy chose then. With the recorded bundle the actions are the
// same, tick by tick; with another one this is shadow evaluation on field data ("what would
// the new policy have done?"), reported as agreement.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle, RoleRunner, type LoadedBundle } from '@fleetmind/models';
import { decodeMessage, QUANTIZATIONS, type Quantization, type RecordedTick } from '@fleetmind/wire';
import { RecordingError } from './flight-recorder.js';
import type { Recording } from './recording-reader.js';

export interface ReplayDifference {
  tick: number;
  /** the action index, or the vector of a continuous action */
  recorded: number | number[];
  replayed: number | number[];
  path: RecordedTick['path'];
  /** a gated policy whose gate chose otherwise than recorded: whether it was silent, recorded and replayed */
  silent?: { recorded: boolean; replayed: boolean };
}

export interface ReplayReport {
  recording: string;
  agent: string;
  bundle: { dir: string; name: string; version: string; sha256: string; recorded: boolean };
  ticks: number;
  compared: number;
  identical: number;
  /** identical / compared */
  agreement: number;
  differences: ReplayDifference[];
  /** ticks not compared, by reason (e.g. the policy was not asked: the observation was refused) */
  skipped: Record<string, number>;
  truncated: boolean;
}

export function manifestSha256(bundleDir: string): string {
  return createHash('sha256').update(readFileSync(join(bundleDir, 'manifest.json'))).digest('hex');
}

/**
 * Replays `recording` through `bundleDir` (default: the bundle it was recorded with, which must
 * still have the recorded manifest's sha256).
 */
export async function replayRecording(recording: Recording, bundleDir?: string): Promise<ReplayReport> {
  const meta = recording.metadata;
  for (const key of ['agent', 'bundle_dir', 'manifest_sha256', 'message_size', 'quantization']) {
    if (meta[key] === undefined) throw new RecordingError(`${recording.path}: its metadata lacks ${key}`);
  }
  const recordedBundle = bundleDir === undefined;
  const dir = bundleDir ?? meta.bundle_dir;
  let sha: string;
  try {
    sha = manifestSha256(dir);
  } catch (err) {
    throw new RecordingError(`the bundle ${dir} cannot be read (${(err as Error).message}); give the bundle with --bundle DIR`);
  }
  if (recordedBundle && sha !== meta.manifest_sha256) {
    throw new RecordingError(`${dir} is not the recorded bundle: its manifest's sha256 is ${sha}, the recording's ${meta.manifest_sha256}; give the recorded bundle (or another on purpose) with --bundle DIR`);
  }
  const bundle = await loadBundle(dir);
  try {
    return await replayWith(recording, bundle, { dir, sha, recorded: recordedBundle || sha === meta.manifest_sha256 });
  } finally {
    await bundle.close();
  }
}

async function replayWith(recording: Recording, bundle: LoadedBundle, about: { dir: string; sha: string; recorded: boolean }): Promise<ReplayReport> {
  const meta = recording.metadata;
  let placed;
  try {
    placed = bundle.agent(meta.agent);
  } catch {
    throw new RecordingError(`the bundle ${bundle.manifest.name} has no agent ${meta.agent}`);
  }
  const recordedSize = Number(meta.message_size);
  const quantization = meta.quantization as Quantization;
  if (!QUANTIZATIONS.includes(quantization)) throw new RecordingError(`${recording.path}: unknown quantization ${meta.quantization}`);
  const comm = bundle.manifest.communication;
  const runner = new RoleRunner(placed.role, comm?.message_size ?? 0);
  const agentId = runner.agentIds([placed.index]);
  const capacity = comm?.inbox_capacity ?? 0;
  // the recorded inboxes mean something to this bundle only if its messages are the same kind
  const sameMessages = runner.rounds > 0 && comm!.message_size === recordedSize && runner.rounds === Number(meta.rounds ?? 0);
  const inbox = new Float32Array(capacity * recordedSize);
  const mask = new Float32Array(capacity);

  const report: ReplayReport = {
    recording: recording.path, agent: meta.agent,
    bundle: { dir: about.dir, name: bundle.manifest.name, version: bundle.manifest.version, sha256: about.sha, recorded: about.recorded },
    ticks: recording.ticks.length, compared: 0, identical: 0, agreement: 0, differences: [], skipped: {}, truncated: recording.truncated,
  };
  const skip = (reason: string) => { report.skipped[reason] = (report.skipped[reason] ?? 0) + 1; };
  // a recurrent policy starts where the agent's did: its state is zeroed at the ticks the recording
  // says it was, and carried from each decision whose action stood (as the agent carries it)
  let memory: Float32Array = new Float32Array(runner.stateSize);

  for (const tick of recording.ticks) {
    if (tick.path === 'not_asked') { skip(`not asked (${tick.safeReason || 'safe'})`); continue; }
    if (tick.safeReason === 'inference_error') { skip('inference error'); continue; }
    if (tick.observation.length !== runner.obsSize) { skip(`observation of ${tick.observation.length} values, the bundle takes ${runner.obsSize}`); continue; }
    let action: Int32Array | Float32Array;
    let silent = tick.silent;
    const recurrent = runner.stateSize > 0;
    if (recurrent && tick.memoryReset) memory.fill(0);
    // (a recurrent policy's state: fed to the graph that starts the decision, the next one kept when the action stood)
    const keep = (next: Float32Array | undefined) => { if (recurrent && !tick.safeReason) memory = next!; };
    if (runner.rounds === 0) {
      const out = await runner.act(tick.observation, agentId, { actionOnly: true, ...(recurrent ? { state: memory } : {}) });
      keep(out.nextState);
      action = out.actions;
    } else if (tick.path !== 'rounds' || !sameMessages) {
      const out = await runner.act(tick.observation, agentId, { fallback: true, actionOnly: true, ...(recurrent ? { state: memory } : {}) });
      keep(out.nextState);
      action = out.actions;
    } else {
      const first = await runner.stage0(tick.observation, agentId, recurrent ? memory : undefined);
      let { state } = first;
      keep(state.slice());
      // a gated policy's gate is a decision too
      if (first.speaks) silent = first.speaks[0] === 0;
      for (const round of tick.rounds) {
        inbox.fill(0);
        mask.fill(0);
        for (const m of round.inbox) {
          if (m.slot >= capacity) throw new RecordingError(`${recording.path}: tick ${tick.tick} round ${round.round}: inbox slot ${m.slot} beyond the bundle's ${capacity}`);
          decodeMessage({ payload: m.payload, scale: m.scale }, quantization, inbox.subarray(m.slot * recordedSize, (m.slot + 1) * recordedSize));
          mask[m.slot] = 1;
        }
        ({ state } = await runner.stage(round.round, state, inbox, mask, capacity));
      }
      action = (await runner.final(state, { actionOnly: true })).actions;
    }
    report.compared++;
    // a continuous action is the vector, compared exactly (the same graph on the same inputs gives the same floats)
    const recorded = tick.policyVector ? Array.from(tick.policyVector) : tick.policyAction;
    const replayed = action instanceof Float32Array ? Array.from(action) : action[0];
    if (JSON.stringify(recorded) === JSON.stringify(replayed) && silent === tick.silent) report.identical++;
    else report.differences.push({ tick: tick.tick, recorded, replayed, path: tick.path, ...(silent !== tick.silent ? { silent: { recorded: tick.silent, replayed: silent } } : {}) });
  }
  report.agreement = report.compared === 0 ? 0 : report.identical / report.compared;
  return report;
}
