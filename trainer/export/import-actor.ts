// `fleetmind bundle import`: actors trained elsewhere (PyTorch, BenchMARL, EPyMARL, RLlib … any
// ONNX export of an MLP from the observation to a value per action) made into a verified bundle
// that `eval --bundle`, the runtime and `fleetmind sim` run like our own. Each role's graph is
// checked against the world's spaces and adapted to the bundle's graph contract; parity is
// checked against the exporter's own outputs when samples are given, and in any case against the
// graph as it came (so the adaptation changed nothing); the bundle is evaluated like an export.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { loadBundle, parseManifest, RoleRunner, BundleError, MANIFEST_SCHEMA_VERSION, type LoadedBundle, type Manifest, type RoleSpec } from '@fleetmind/models';
import { adaptImportedActor, ImportError, originalActorOutputs } from '@fleetmind/models/onnx';
import { agentsOfRole, evaluateControllerAsync, openWorld, randomController, roleGroups, worldModuleOf, type World } from '@fleetmind/worlds';
import { bundleController } from '../policy/bundle-controller.js';
import { actionOf, PARITY_TOLERANCE, sourceCommit } from './provenance.js';

export { ImportError } from '@fleetmind/models/onnx';

export interface ImportOptions {
  /** the world and its options */
  world: string;
  worldConfig?: Record<string, unknown>;
  /** per role, the ONNX file of its actor (a world of one role: the role may be null) */
  actors: { role: string | null; file: string }[];
  /** per role, samples of the exporter's outputs: {observations: number[][], outputs: number[][]} */
  samples?: { role: string | null; file: string }[];
  out: string;
  name?: string;
  version?: string;
  /** episodes of the import-time evaluation */
  episodes?: number;
  /** the command that made the bundle, recorded in its provenance */
  command?: string | null;
  onProgress?: (line: string) => void;
}

const samplesSchema = z.strictObject({
  observations: z.array(z.array(z.number())).min(1),
  outputs: z.array(z.array(z.number())).min(1),
}).refine((s) => s.observations.length === s.outputs.length, { message: 'observations and outputs must have a row each for the same samples', path: ['outputs'] });

export async function importActors(o: ImportOptions): Promise<Manifest> {
  const progress = o.onProgress ?? (() => {});
  const world = openWorld(o.world, { config: o.worldConfig ?? {} });
  const groups = roleGroups(world.roles);
  const byRole = assign(o.actors, groups.map((g) => g.role), 'actor');
  const samplesByRole = assign(o.samples ?? [], groups.map((g) => g.role), 'samples', false);
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new BundleError(`${o.out} is not empty: import into a new folder`);

  const originals = new Map<string, Uint8Array>();
  const files: Manifest['files'] = {};
  const write = (file: string, bytes: Uint8Array) => {
    mkdirSync(dirname(join(o.out, file)), { recursive: true });
    writeFileSync(join(o.out, file), bytes);
    files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  };
  const adapted = groups.map(({ role, agents }) => {
    const source = byRole.get(role)!;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(source);
    } catch (err) {
      throw new ImportError(`cannot read the ${role} actor ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    originals.set(role, bytes);
    const obsSize = world.observationSpace(agents[0]).shape[0];
    const space = world.actionSpace(agents[0]);
    const n = space.kind === 'discrete' ? space.n : space.shape[0];
    return { role, agents, obsSize, n, graph: adaptImportedActor(bytes, { source, obsSize, numActions: n, continuous: space.kind === 'continuous' }) };
  });
  mkdirSync(o.out, { recursive: true });
  try {
    return await writeBundle(o, world, groups, adapted, originals, samplesByRole, write, files, progress);
  } catch (err) {
    // the folder was new or empty: a bundle that failed its checks is not left behind
    rmSync(o.out, { recursive: true, force: true });
    throw err;
  }
}

async function writeBundle(
  o: ImportOptions, world: World, groups: { role: string }[],
  adapted: { role: string; agents: number[]; obsSize: number; n: number; graph: Uint8Array }[],
  originals: Map<string, Uint8Array>, samplesByRole: Map<string, string>,
  write: (file: string, bytes: Uint8Array) => void, files: Manifest['files'], progress: (line: string) => void,
): Promise<Manifest> {
  const roles: RoleSpec[] = adapted.map(({ role, agents, obsSize, graph }) => {
    write(`${role}/actor.onnx`, graph);
    return {
      name: role,
      agents: agents.map((i) => world.possibleAgents[i]),
      observation: { size: obsSize, fields: world.observationFields(agents[0]) },
      agent_id_size: 0,
      ...actionOf(world, agents[0]),
      // no communication stages: the imported actor acts alone, and is its own fallback
      graphs: { kind: 'mlp', actor: `${role}/actor.onnx`, fallback: `${role}/actor.onnx` },
    };
  });
  const digest = createHash('sha256');
  for (const role of groups.map((g) => g.role)) digest.update(originals.get(role)!);
  const manifest: Manifest = {
    schema_version: MANIFEST_SCHEMA_VERSION,
    name: o.name ?? `${world.id.replace(/_v\d+$/, '').replace(/_/g, '-')}-imported`,
    version: o.version ?? '1.0.0',
    world: { id: world.id, config: o.worldConfig ?? {}, ...(worldModuleOf(world.id) ? { module: worldModuleOf(world.id)! } : {}) },
    roles,
    communication: null,
    files,
    provenance: {
      algorithm: 'imported', actor: 'mlp', env_steps: 0, seed: 0,
      config_digest: `sha256:${digest.digest('hex')}`,
      train_command: o.command ?? null, source_commit: sourceCommit(), exported_at: new Date().toISOString(), fleetmind_version: '0.1.0',
    },
    evaluation: { nominal: { episodes: 1, seed: 0, agent_return_mean: 0, team_return_mean: 0 }, quantized: null, msg_dropout_30: null },
    parity: { samples: 1, max_abs_error: 0, action_mismatches: 0, tolerance: PARITY_TOLERANCE },
  };
  const writeManifest = () => writeFileSync(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeManifest();

  // the checks run on the bundle as the loader opens it: what a robot would load
  const bundle = await loadBundle(o.out);
  try {
    progress('checking parity');
    manifest.parity = await parity(bundle, world, o.worldConfig ?? {}, originals, samplesByRole);
    const { max_abs_error: err, action_mismatches: mismatches, samples } = manifest.parity;
    if (err > PARITY_TOLERANCE || mismatches > 0) {
      throw new ImportError(`import parity failed: ONNX Runtime's outputs differ from the ${samplesByRole.size > 0 ? 'samples\' (the exporter\'s own)' : 'original graph\'s'} by up to ${err.toExponential(2)} (tolerance ${PARITY_TOLERANCE}) and in ${mismatches} of ${samples} greedy actions`);
    }
    const episodes = o.episodes ?? 200;
    progress(`evaluating ${episodes} episodes`);
    const w = openWorld(o.world, { numEnvs: episodes, autoReset: false, config: o.worldConfig ?? {} });
    const r = await evaluateControllerAsync(w, bundleController(w, bundle, { seed: 0 }), 0);
    manifest.evaluation.nominal = { episodes, seed: 0, agent_return_mean: r.agent_return_mean, team_return_mean: r.team_return_mean };
  } finally {
    await bundle.close();
  }
  writeManifest();
  return parseManifest(readFileSync(join(o.out, 'manifest.json'), 'utf8'));
}

/** `[ROLE=]FILE` arguments matched to the world's roles: each role once, and (for actors) every role. */
function assign(given: { role: string | null; file: string }[], roles: string[], what: string, everyRole = true): Map<string, string> {
  const out = new Map<string, string>();
  for (const { role, file } of given) {
    const r = role ?? (roles.length === 1 ? roles[0] : null);
    if (r === null) throw new ImportError(`--${what} ${file}: the world has roles ${roles.join(', ')}; say which, as ROLE=FILE`);
    if (!roles.includes(r)) throw new ImportError(`--${what} ${role}=${file}: the world has no role ${r} (roles: ${roles.join(', ')})`);
    if (out.has(r)) throw new ImportError(`--${what}: role ${r} is given twice`);
    out.set(r, file);
  }
  const missing = roles.filter((r) => !out.has(r));
  if (everyRole && missing.length > 0) throw new ImportError(`--actor: no actor for role ${missing.join(', ')} (a bundle plays every role of the world)`);
  return out;
}

/**
 * The bundle's graphs against the exporter's samples where given, else against the graph as it
 * came on observations of random play: logits within the tolerance, the same greedy actions.
 */
async function parity(bundle: LoadedBundle, world: World, worldConfig: Record<string, unknown>, originals: Map<string, Uint8Array>, samplesByRole: Map<string, string>) {
  let maxErr = 0;
  let mismatches = 0;
  let total = 0;
  for (const policy of bundle.roles) {
    const role = policy.spec.name;
    const runner = new RoleRunner(policy, 0);
    const d = runner.obsSize;
    const n = policy.spec.action.kind === 'discrete' ? policy.spec.action.n : policy.spec.action.size;
    let observations: Float32Array;
    let expected: Float32Array;
    const samplesFile = samplesByRole.get(role);
    if (samplesFile) {
      const samples = readSamples(samplesFile, d, n);
      observations = Float32Array.from(samples.observations.flat());
      expected = Float32Array.from(samples.outputs.flat());
    } else {
      observations = randomPlayObservations(world, worldConfig, agentsOfRole(world.roles, role), 1024);
      expected = await originalActorOutputs(originals.get(role)!, observations, d);
    }
    const rows = observations.length / d;
    const got = await runner.act(observations, runner.agentIds(new Int32Array(rows)));
    if (got.actions instanceof Float32Array) {
      // continuous: the vector is the output itself
      for (let q = 0; q < rows * n; q++) maxErr = Math.max(maxErr, Math.abs(got.actions[q] - expected[q]));
      total += rows;
      continue;
    }
    for (let row = 0; row < rows; row++) {
      let best = 0;
      for (let a = 0; a < n; a++) {
        maxErr = Math.max(maxErr, Math.abs(got.logits[row * n + a] - expected[row * n + a]));
        if (expected[row * n + a] > expected[row * n + best]) best = a;
      }
      if (got.actions[row] !== best) mismatches++;
    }
    total += rows;
  }
  return { samples: total, max_abs_error: maxErr, action_mismatches: mismatches, tolerance: PARITY_TOLERANCE };
}

function readSamples(file: string, obsSize: number, numActions: number): z.infer<typeof samplesSchema> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ImportError(`--samples ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = samplesSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ImportError(`--samples ${file}: ${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)'}: ${issue.message}`);
  }
  const bad = parsed.data.observations.findIndex((row) => row.length !== obsSize);
  if (bad >= 0) throw new ImportError(`--samples ${file}: observations[${bad}] has ${parsed.data.observations[bad].length} values; the role observes ${obsSize}`);
  const badOut = parsed.data.outputs.findIndex((row) => row.length !== numActions);
  if (badOut >= 0) throw new ImportError(`--samples ${file}: outputs[${badOut}] has ${parsed.data.outputs[badOut].length} values; the role has ${numActions} actions`);
  return parsed.data;
}

/** Observations of `agents` from random play, for comparing two graphs on inputs they will meet. */
function randomPlayObservations(world: World, config: Record<string, unknown>, agents: number[], count: number): Float32Array {
  const d = world.observationSpace(agents[0]).shape[0];
  const envs = Math.ceil(count / agents.length / 8);
  const w = openWorld(world.id, { numEnvs: envs, config });
  const random = randomController(w, 11);
  const space = w.actionSpace(0);
  const actions = space.kind === 'discrete' ? new Int32Array(envs * w.possibleAgents.length) : new Float32Array(envs * w.possibleAgents.length * space.shape[0]);
  const out = new Float32Array(envs * 8 * agents.length * d);
  let { observations } = w.reset(11);
  let at = 0;
  for (let step = 0; step < 8; step++) {
    for (const a of agents) {
      out.set(observations[a], at);
      at += observations[a].length;
    }
    random.act(observations, actions);
    observations = w.step(actions).observations;
  }
  return out;
}
