// The remote-world protocol (docs/remote-world-protocol.md is its spec): how a simulator in
// another process, language or machine serves a batched world. Frames on a byte stream:
//
//   u32 length (of what follows, little-endian) · u8 type · body
//
// Metadata (HELLO, SPEC, snapshots, errors) is UTF-8 JSON; the hot path (RESET, STEP and their
// answers) is packed little-endian arrays. Both ends read a body field by field, so a frame that
// is short, long or wrong names the field where it went wrong.

import { z } from 'zod';
import { continuousSpace, discreteSpace, WorldError, type ActionSpace, type WorldSnapshot } from '../types.js';

export const PROTOCOL_VERSION = 1;
/** the largest frame either end accepts (a batch of 4,096 envs of 100 agents seeing 256 values fits) */
export const MAX_FRAME_BYTES = 512 * 2 ** 20;

export const FrameType = {
  HELLO: 1, SPEC: 2, RESET: 3, OBSERVATIONS: 4, STEP: 5, STEP_RESULT: 6,
  SNAPSHOT: 7, SNAPSHOT_RESULT: 8, SET_STATE: 9, CLOSE: 10, ERROR: 15,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];
export const FRAME_NAMES: Record<number, string> = Object.fromEntries(Object.entries(FrameType).map(([k, v]) => [v, k]));

/** A broken frame or a broken promise of the protocol; `field` names where. */
export class ProtocolError extends WorldError {
  constructor(message: string, readonly field: string | null = null) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface Frame {
  type: number;
  body: Uint8Array;
}

/** Splits a byte stream into frames as its chunks arrive. */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly source: string) {}

  /** the frames the chunk completes (a frame over MAX_FRAME_BYTES is a ProtocolError) */
  push(chunk: Uint8Array): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
      if (length < 1 || length > MAX_FRAME_BYTES) throw new ProtocolError(`${this.source}: a frame says it is ${length} bytes long (1 to ${MAX_FRAME_BYTES} allowed): not this protocol, or a broken stream`, 'length');
      if (this.buffered < 4 + length) break;
      const all = this.take(4 + length);
      frames.push({ type: all[4], body: all.subarray(5) });
    }
    return frames;
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return this.flatten().subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const flat = this.flatten();
    const out = flat.slice(0, n);
    this.chunks = flat.length > n ? [flat.subarray(n)] : [];
    this.buffered -= n;
    return out;
  }

  private flatten(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0];
    const flat = new Uint8Array(this.buffered);
    let at = 0;
    for (const c of this.chunks) { flat.set(c, at); at += c.length; }
    this.chunks = [flat];
    return flat;
  }
}

/** Reads a body field by field; every shortfall names the frame, the field and the bytes. */
export class BodyReader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly body: Uint8Array, private readonly what: string) {
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  private need(field: string, bytes: number): number {
    if (this.at + bytes > this.body.length) {
      throw new ProtocolError(`${this.what} ends inside ${field}: it needs ${bytes} bytes at offset ${this.at}, the body has ${this.body.length}`, field);
    }
    const start = this.at;
    this.at += bytes;
    return start;
  }

  u32(field: string): number { return this.view.getUint32(this.need(field, 4), true); }
  i64(field: string): number {
    const v = this.view.getBigInt64(this.need(field, 8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new ProtocolError(`${this.what}: ${field} ${v} is not a safe integer`, field);
    return Number(v);
  }
  f64(field: string): number { return this.view.getFloat64(this.need(field, 8), true); }

  /** a copy, so that it is aligned and outlives the frame */
  f32s(field: string, count: number, into?: Float32Array, offset = 0): Float32Array {
    const start = this.need(field, count * 4);
    const out = into ?? new Float32Array(count);
    new Uint8Array(out.buffer, out.byteOffset + offset * 4, count * 4).set(this.body.subarray(start, start + count * 4));
    return out;
  }
  f64s(field: string, count: number, into?: Float64Array): Float64Array {
    const start = this.need(field, count * 8);
    const out = into ?? new Float64Array(count);
    new Uint8Array(out.buffer, out.byteOffset, count * 8).set(this.body.subarray(start, start + count * 8));
    return out;
  }
  i32s(field: string, count: number): Int32Array {
    const start = this.need(field, count * 4);
    const out = new Int32Array(count);
    new Uint8Array(out.buffer).set(this.body.subarray(start, start + count * 4));
    return out;
  }
  /** 0/1 flags; anything else is refused */
  flags(field: string, count: number, into?: Uint8Array): Uint8Array {
    const start = this.need(field, count);
    const raw = this.body.subarray(start, start + count);
    for (let k = 0; k < count; k++) if (raw[k] > 1) throw new ProtocolError(`${this.what}: ${field}[${k}] is ${raw[k]}; flags are 0 or 1`, field);
    const out = into ?? new Uint8Array(count);
    out.set(raw);
    return out;
  }
  json(field: string): unknown {
    const start = this.need(field, this.body.length - this.at);
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(this.body.subarray(start)));
    } catch (err) {
      throw new ProtocolError(`${this.what}: ${field} is not UTF-8 JSON (${(err as Error).message})`, field);
    }
  }
  end(lastField: string): void {
    if (this.at !== this.body.length) throw new ProtocolError(`${this.what} has ${this.body.length - this.at} bytes after its last field (${lastField}): the two ends disagree on the layout`, lastField);
  }
}

/** Writes a body; little-endian throughout. */
export class BodyWriter {
  private parts: Uint8Array[] = [];
  private size = 0;

  private add(bytes: Uint8Array): this { this.parts.push(bytes); this.size += bytes.length; return this; }
  u32(v: number): this { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return this.add(b); }
  i64(v: number): this { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(v), true); return this.add(b); }
  f64(v: number): this { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, v, true); return this.add(b); }
  /** typed arrays as their bytes (this machine and the protocol are both little-endian) */
  array(a: Float32Array | Float64Array | Int32Array | Uint8Array): this { return this.add(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)); }
  json(v: unknown): this { return this.add(new TextEncoder().encode(JSON.stringify(v))); }
  /** The frame of this body — length, type, body — in one allocation (the arrays are copied once). */
  frame(type: FrameTypeCode): Uint8Array {
    const out = new Uint8Array(5 + this.size);
    new DataView(out.buffer).setUint32(0, this.size + 1, true);
    out[4] = type;
    let at = 5;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

// ---- the JSON messages ----------------------------------------------------------------------

export const helloSchema = z.strictObject({
  protocol: z.number().int(),
  num_envs: z.number().int().min(1).max(65_536),
  auto_reset: z.boolean(),
  options: z.record(z.string(), z.unknown()),
});
export type Hello = z.infer<typeof helloSchema>;

const actionSpaceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('discrete'), n: z.number().int().min(1) }),
  z.strictObject({ kind: z.literal('continuous'), low: z.array(z.number()).min(1), high: z.array(z.number()).min(1) })
    .refine((s) => s.low.length === s.high.length && s.low.every((lo, k) => lo <= s.high[k]), { message: 'low and high must have one length and low ≤ high' }),
]);

export const specSchema = z.strictObject({
  protocol: z.number().int(),
  id: z.string().regex(/^[a-z][a-z0-9_]*_v\d+$/, 'a versioned world id such as "my_task_v0"'),
  agents: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'agent names are fleetmind ids: 1-64 of A-Z a-z 0-9 _ . -')).min(1)
    .refine((a) => new Set(a).size === a.length, { message: 'agent names must be unique' }),
  roles: z.array(z.string().min(1)),
  observation_sizes: z.array(z.number().int().min(1)),
  observation_fields: z.array(z.array(z.string())).optional(),
  action_spaces: z.array(actionSpaceSchema),
  state_size: z.number().int().min(1),
  max_cycles: z.number().int().min(1),
  info_keys: z.array(z.string().min(1)),
  comes_and_goes: z.boolean().default(false),
}).superRefine((s, ctx) => {
  const n = s.agents.length;
  for (const key of ['roles', 'observation_sizes', 'action_spaces'] as const) {
    if (s[key].length !== n) ctx.addIssue({ code: 'custom', path: [key], message: `one entry per agent (${n}), got ${s[key].length}` });
  }
  if (s.observation_fields) s.observation_fields.forEach((f, i) => {
    if (f.length !== s.observation_sizes[i]) ctx.addIssue({ code: 'custom', path: ['observation_fields', i], message: `${f.length} names for an observation of ${s.observation_sizes[i]}` });
  });
  const first = s.action_spaces[0];
  if (s.action_spaces.some((a) => a.kind !== first?.kind || (a.kind === 'continuous' && first.kind === 'continuous' && a.low.length !== first.low.length))) {
    ctx.addIssue({ code: 'custom', path: ['action_spaces'], message: 'every agent takes discrete actions, or every agent continuous ones of one length' });
  }
});
export type WorldSpec = z.infer<typeof specSchema>;

export const errorSchema = z.object({ code: z.string(), message: z.string(), field: z.string().optional() });

/** Parses a JSON message with its schema; a mismatch names the first field. */
export function parseJson<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || '(message)';
    throw new ProtocolError(`${what}: ${field}: ${issue.message}`, field);
  }
  return parsed.data;
}

export function actionSpaceOf(s: WorldSpec['action_spaces'][number]): ActionSpace {
  return s.kind === 'discrete' ? discreteSpace(s.n) : continuousSpace(s.low, s.high);
}

export function specActionSpace(space: ActionSpace): WorldSpec['action_spaces'][number] {
  return space.kind === 'discrete' ? { kind: 'discrete', n: space.n } : { kind: 'continuous', low: [...space.low], high: [...space.high] };
}

/** The action values one env holds: N for discrete actions, N·D for continuous ones. */
export function actionsPerEnv(spec: WorldSpec): number {
  const first = spec.action_spaces[0];
  return spec.agents.length * (first.kind === 'discrete' ? 1 : first.low.length);
}

// ---- the packed messages --------------------------------------------------------------------

/** What OBSERVATIONS carries (the answer to RESET and SET_STATE). */
export interface ObservationsBody {
  /** per agent [E, obsDim_i] */
  observations: Float32Array[];
  /** [E, S] */
  state: Float32Array;
  /** per info key [E] */
  infos: Float64Array[];
  /** [E, N] */
  active: Uint8Array;
}

export function writeObservations(w: BodyWriter, o: ObservationsBody): BodyWriter {
  for (const obs of o.observations) w.array(obs);
  w.array(o.state);
  for (const info of o.infos) w.array(info);
  return w.array(o.active);
}

export function readObservations(r: BodyReader, spec: WorldSpec, envs: number, into: ObservationsBody, envOffset = 0): void {
  const n = spec.agents.length;
  spec.observation_sizes.forEach((d, i) => r.f32s(`observations of ${spec.agents[i]}`, envs * d, into.observations[i], envOffset * d));
  r.f32s('state', envs * spec.state_size, into.state, envOffset * spec.state_size);
  spec.info_keys.forEach((key, k) => r.f64s(`infos.${key}`, envs, into.infos[k].subarray(envOffset, envOffset + envs)));
  r.flags('active', envs * n, into.active.subarray(envOffset * n, (envOffset + envs) * n));
}

/** What STEP_RESULT carries; finals: for each env whose episode ended (auto-reset only), its last observations and state. */
export interface StepBody extends ObservationsBody {
  serverUs: number;
  rewards: Float64Array;
  terminations: Uint8Array;
  truncations: Uint8Array;
  episodeEnded: Uint8Array;
  /** per agent [E, obsDim_i] and [E, S]: valid where episodeEnded */
  finalObservations: Float32Array[];
  finalStates: Float32Array;
}

export function writeStepResult(w: BodyWriter, s: StepBody, spec: WorldSpec, autoReset: boolean): BodyWriter {
  w.f64(s.serverUs).array(s.rewards);
  for (const info of s.infos) w.array(info);
  for (const obs of s.observations) w.array(obs);
  w.array(s.state).array(s.active).array(s.terminations).array(s.truncations).array(s.episodeEnded);
  if (autoReset) {
    for (let e = 0; e < s.episodeEnded.length; e++) {
      if (!s.episodeEnded[e]) continue;
      spec.observation_sizes.forEach((d, i) => w.array(s.finalObservations[i].subarray(e * d, (e + 1) * d)));
      w.array(s.finalStates.subarray(e * spec.state_size, (e + 1) * spec.state_size));
    }
  }
  return w;
}

/** Reads one server's STEP_RESULT of `envs` envs into the batch's arrays at envOffset; returns the server's µs. */
export function readStepResult(r: BodyReader, spec: WorldSpec, envs: number, autoReset: boolean, into: StepBody, envOffset: number): number {
  const n = spec.agents.length;
  const rows = (k: number) => [envOffset * k, (envOffset + envs) * k] as const;
  const serverUs = r.f64('server_us');
  r.f64s('rewards', envs * n, into.rewards.subarray(...rows(n)));
  spec.info_keys.forEach((key, k) => r.f64s(`infos.${key}`, envs, into.infos[k].subarray(...rows(1))));
  spec.observation_sizes.forEach((d, i) => r.f32s(`observations of ${spec.agents[i]}`, envs * d, into.observations[i], envOffset * d));
  r.f32s('state', envs * spec.state_size, into.state, envOffset * spec.state_size);
  r.flags('active', envs * n, into.active.subarray(...rows(n)));
  r.flags('terminations', envs * n, into.terminations.subarray(...rows(n)));
  r.flags('truncations', envs * n, into.truncations.subarray(...rows(n)));
  const ended = r.flags('episode_ended', envs, into.episodeEnded.subarray(...rows(1)));
  if (autoReset) {
    for (let e = 0; e < envs; e++) {
      if (!ended[e]) continue;
      const env = envOffset + e;
      spec.observation_sizes.forEach((d, i) => r.f32s(`final observation of ${spec.agents[i]} in env ${env}`, d, into.finalObservations[i], env * d));
      r.f32s(`final state of env ${env}`, spec.state_size, into.finalStates, env * spec.state_size);
    }
  }
  r.end(autoReset ? 'the final observations' : 'episode_ended');
  return serverUs;
}

export function snapshotOf(value: unknown, what: string): WorldSnapshot {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError(`${what}: a snapshot is a JSON object`, 'snapshot');
  const steps = (value as { steps?: unknown }).steps;
  if (!Number.isInteger(steps) || (steps as number) < 0) throw new ProtocolError(`${what}: snapshot.steps must be a non-negative integer, got ${JSON.stringify(steps)}`, 'snapshot.steps');
  return value as WorldSnapshot;
}
