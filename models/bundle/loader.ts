// Opening a bundle: the manifest against its schema, every file against its sha256 and size, no
// file the manifest does not pin, the signature (required when a trusted key is given), and
// every graph loaded in ONNX Runtime with exactly the inputs and outputs the manifest implies.
// `fleetmind bundle verify` and the runtime use this one path, so the runtime refuses what
// verify refuses.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { BundleError, parseManifest, type Manifest, type RoleSpec } from './manifest.js';
import { checkSignature, SIGNATURE_FILE, type SignatureStatus } from './signing.js';
import { expectedGraphIo, type GraphIo } from './graph-io.js';
import { fuseLastRoundWithFinal } from '../onnx/graph-fusion.js';
import { joinObservationAndAgentId } from '../onnx/graph-join.js';

export interface LoadOptions {
  /** PEM of the only public key whose signature is accepted; without it signatures are checked but optional */
  trustedKeyPem?: string;
  /** where the trusted key came from, for messages */
  trustedKeyWhere?: string;
}

export interface RolePolicy {
  spec: RoleSpec;
  /** MLP bundles: obs, agent_id → logits, action; recurrent ones: obs, agent_id, state → logits, action, next_state */
  actor: ort.InferenceSession | null;
  /** CommNet bundles: stage 0 … K */
  stages: ort.InferenceSession[];
  final: ort.InferenceSession | null;
  /** CommNet bundles: the last round and the final graph as one (models/onnx/graph-fusion.ts) */
  lastRoundAndFinal: ort.InferenceSession | null;
  /** acts with no messages */
  fallback: ort.InferenceSession;
  /** the sessions that take the observation and the agent id as one row, `obs_agent_id` (models/onnx/graph-join.ts) */
  joined: ReadonlySet<ort.InferenceSession>;
}

export interface LoadedBundle {
  dir: string;
  manifest: Manifest;
  signature: SignatureStatus;
  roles: RolePolicy[];
  /** the role and one-hot index of an agent id */
  agent(agentId: string): { role: RolePolicy; index: number };
  close(): Promise<void>;
}

/** Session options for small edge CPUs: one thread, no spinning (run() holds the event loop). */
export const EDGE_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/** Reads and checks everything but the graphs' contents; cheap, and enough to trust the bytes. */
export function checkBundleFiles(dir: string, options: LoadOptions = {}): { manifest: Manifest; signature: SignatureStatus } {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BundleError(`${dir} is not a bundle folder`);
  if (!existsSync(manifestPath)) throw new BundleError(`${dir} has no manifest.json`);
  const manifestBytes = readFileSync(manifestPath);
  const manifest = parseManifest(manifestBytes.toString('utf8'), manifestPath);
  for (const [file, pinned] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    if (!existsSync(path)) throw new BundleError(`${path} is missing (the manifest lists it)`);
    const bytes = readFileSync(path);
    if (bytes.length !== pinned.bytes) throw new BundleError(`${path} has ${bytes.length} bytes, the manifest says ${pinned.bytes}: truncated or replaced`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== pinned.sha256) throw new BundleError(`${path}: sha256 ${sha} does not match the manifest's ${pinned.sha256}: the file was modified`);
  }
  for (const file of listFiles(dir)) {
    if (file !== 'manifest.json' && file !== SIGNATURE_FILE && !(file in manifest.files)) {
      throw new BundleError(`${join(dir, file)} is not listed in the manifest: a bundle holds only what its manifest pins`);
    }
  }
  const signature = checkSignature(dir, manifestBytes, options.trustedKeyPem, options.trustedKeyWhere);
  return { manifest, signature };
}

export async function loadBundle(dir: string, options: LoadOptions = {}): Promise<LoadedBundle> {
  const { manifest, signature } = checkBundleFiles(dir, options);
  const opened: ort.InferenceSession[] = [];
  const joined = new Set<ort.InferenceSession>();
  const open = async (file: string, io: GraphIo): Promise<ort.InferenceSession> => {
    const bytes = readFileSync(join(dir, file));
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, EDGE_SESSION_OPTIONS);
    } catch (err) {
      throw new BundleError(`${join(dir, file)} does not load in ONNX Runtime: ${(err as Error).message.split('\n')[0]}`);
    }
    opened.push(session);
    checkIo(join(dir, file), session, io);
    // the graph as checked, with its observation and agent id fed as one row where it allows
    const oneRow = joinObservationAndAgentId(bytes);
    if (!oneRow) return session;
    let faster: ort.InferenceSession;
    try {
      faster = await ort.InferenceSession.create(oneRow, EDGE_SESSION_OPTIONS);
    } catch {
      return session;
    }
    opened.splice(opened.indexOf(session), 1, faster);
    await session.release();
    joined.add(faster);
    return faster;
  };
  // one call fewer per tick where the graphs allow it; a graph that does not fuse runs as two calls
  const openFused = async (stages: string[], final: string): Promise<ort.InferenceSession | null> => {
    if (stages.length < 2) return null;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(fuseLastRoundWithFinal(readFileSync(join(dir, stages[stages.length - 1])), readFileSync(join(dir, final))), EDGE_SESSION_OPTIONS);
    } catch {
      return null;
    }
    opened.push(session);
    return session;
  };
  try {
    const roles: RolePolicy[] = [];
    for (const spec of manifest.roles) {
      const io = expectedGraphIo(manifest, spec);
      const g = spec.graphs;
      if (g.kind === 'mlp' || g.kind === 'recurrent') {
        const actor = await open(g.actor, io.get(g.actor)!);
        const fallback = g.fallback === g.actor ? actor : await open(g.fallback, io.get(g.fallback)!);
        roles.push({ spec, actor, stages: [], final: null, lastRoundAndFinal: null, fallback, joined });
      } else {
        const stages: ort.InferenceSession[] = [];
        for (const file of g.stages) stages.push(await open(file, io.get(file)!));
        const final = await open(g.final, io.get(g.final)!);
        const fused = await openFused(g.stages, g.final);
        roles.push({ spec, actor: null, stages, final, lastRoundAndFinal: fused, fallback: await open(g.fallback, io.get(g.fallback)!), joined });
      }
    }
    const byAgent = new Map<string, { role: RolePolicy; index: number }>();
    for (const role of roles) role.spec.agents.forEach((id, index) => byAgent.set(id, { role, index }));
    return {
      dir, manifest, signature, roles,
      agent(agentId) {
        const found = byAgent.get(agentId);
        if (!found) throw new BundleError(`agent "${agentId}" is not in this bundle (agents: ${[...byAgent.keys()].join(', ')})`);
        return found;
      },
      async close() { await Promise.all(opened.map((s) => s.release())); },
    };
  } catch (err) {
    await Promise.all(opened.map((s) => s.release()));
    throw err;
  }
}

function checkIo(where: string, session: ort.InferenceSession, io: GraphIo): void {
  const compare = (kind: 'input' | 'output', actual: readonly ort.InferenceSession.ValueMetadata[], expected: GraphIo['inputs']) => {
    const names = actual.map((m) => m.name);
    if (names.join(',') !== expected.map((e) => e.name).join(',')) {
      throw new BundleError(`${where}: ${kind}s are [${names.join(', ')}], the manifest implies [${expected.map((e) => e.name).join(', ')}]`);
    }
    expected.forEach((e, k) => {
      const meta = actual[k];
      if (!meta.isTensor) throw new BundleError(`${where}: ${kind} ${e.name} is not a tensor`);
      const shape = meta.shape.map((d) => (typeof d === 'number' ? d : String(d)));
      const fixedMatches = shape.length === e.shape.length && shape.every((d, q) => (typeof e.shape[q] === 'number' ? d === e.shape[q] : typeof d === 'string'));
      if (meta.type !== e.type || !fixedMatches) {
        throw new BundleError(`${where}: ${kind} ${e.name} is ${meta.type} [${shape.join(', ')}], the manifest implies ${e.type} [${e.shape.join(', ')}]`);
      }
    });
  };
  compare('input', session.inputMetadata, io.inputs);
  compare('output', session.outputMetadata, io.outputs);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}
