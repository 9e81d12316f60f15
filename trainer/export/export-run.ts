// `fleetmind export`: a training run → a policy bundle. Writes each role's ONNX graphs, checks
// them against TensorFlow.js on sampled observations and masks (parity: logits within 1e-5 and
// identical greedy actions, or the export fails and says by how much), evaluates the bundle's
// graphs in-process (nominal, with quantized messages, with 30 % message loss), and writes
// manifest.json pinning every file's sha256.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  loadBundle, parseManifest, RoleRunner, teamStep, BundleError, MANIFEST_SCHEMA_VERSION,
  type LoadedBundle, type Manifest, type Quantization, type RoleSpec,
} from '@fleetmind/models';
import { commNetFallbackGraph, commNetFinalGraph, commNetRoundGraph, commNetStage0Graph, gruActorGraph, mlpActorGraph } from '@fleetmind/models/onnx';
import { agentsOfRole, evaluateControllerAsync, isRemoteWorld, openWorld, randomController, Rng, sampleCommMask, type World } from '@fleetmind/worlds';
import { bundleController } from '../policy/bundle-controller.js';
import { actorFromWeights, actorKindOf, actorLogits, greedySpeakers, isCommNetWeights, isGruWeights, newActorMemory } from '../nn/actor.js';
import { writeActorInputs } from '../nn/agent-inputs.js';
import { exportedActionOf, greedyContinuous } from '../rl/greedy-actions.js';
import { isTabular, type NetworkCheckpoint } from '../runs/checkpoint-schema.js';
import { RunFolder } from '../runs/run-folder.js';
import { observationBounds } from './observation-bounds.js';
import { actionOf, PARITY_TOLERANCE, sourceCommit } from './provenance.js';

export { PARITY_TOLERANCE } from './provenance.js';

/** steps of each sequence a recurrent actor's parity is checked over */
export const RECURRENT_PARITY_STEPS = 24;

export interface ExportOptions {
  run: string;
  out: string;
  quantization: Quantization;
  /** bundle name (default: from the world and actor) */
  name?: string;
  version?: string;
  /** episodes of the export-time evaluation */
  episodes?: number;
  /** observation/mask samples per role for parity (at least 1000) */
  paritySamples?: number;
  /** the command that trained the run, recorded for reproducibility */
  trainCommand?: string | null;
  onProgress?: (line: string) => void;
}

export class ParityError extends Error {
  readonly code = 'FM_ERR_PARITY';
}

export async function exportRun(o: ExportOptions): Promise<Manifest> {
  const progress = o.onProgress ?? (() => {});
  const run = RunFolder.open(o.run);
  const saved = run.loadCheckpoint();
  if (isTabular(saved)) {
    throw new BundleError(`${o.run} is an iql-tabular run: its Q-tables read the world's global state, which a robot does not have, so there is nothing to export (train --algo iql, vdn, qmix or maddpg for a deployable network)`);
  }
  const checkpoint: NetworkCheckpoint = saved;
  const { config } = checkpoint;
  // communication settings exist only where the actor can communicate (MAPPO/IPPO)
  const comm = config.algo === 'mappo' || config.algo === 'ippo' ? config : null;
  const world = openWorld(config.world, { config: config.worldConfig });
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new BundleError(`${o.out} is not empty: export into a new folder`);
  mkdirSync(o.out, { recursive: true });

  const files: Manifest['files'] = {};
  const write = (file: string, bytes: Uint8Array) => {
    mkdirSync(dirname(join(o.out, file)), { recursive: true });
    writeFileSync(join(o.out, file), bytes);
    files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  };

  const commnet = checkpoint.roles.some((r) => isCommNetWeights(r.actor));
  const actorKind = actorKindOf(checkpoint.roles.find((r) => isCommNetWeights(r.actor))?.actor ?? checkpoint.roles[0].actor);
  const roles: RoleSpec[] = checkpoint.roles.map((saved) => {
    const agents = agentsOfRole(world.roles, saved.role);
    const obsSize = world.observationSpace(agents[0]).shape[0];
    const { action, safe_action } = actionOf(world, agents[0]);
    const io = { obsSize, agentIdSize: config.agentId ? agents.length : 0, continuous: action.kind === 'continuous', ...exportedActionOf(config, world.actionSpace(agents[0])) };
    let graphs: RoleSpec['graphs'];
    if (isCommNetWeights(saved.actor)) {
      const stages = [`${saved.role}/stage0.onnx`];
      write(stages[0], commNetStage0Graph(saved.actor, io));
      for (let k = 1; k <= saved.actor.spec.rounds; k++) {
        stages.push(`${saved.role}/stage${k}.onnx`);
        write(stages[k], commNetRoundGraph(saved.actor, k));
      }
      write(`${saved.role}/final.onnx`, commNetFinalGraph(saved.actor, io));
      write(`${saved.role}/fallback.onnx`, commNetFallbackGraph(saved.actor, io));
      graphs = { kind: 'commnet', stages, final: `${saved.role}/final.onnx`, fallback: `${saved.role}/fallback.onnx` };
      // a CommNet-GRU's stage 0 and fallback take its state and return the next (h⁰)
      if (saved.actor.spec.recurrent) graphs.state = { input: 'state', output: 'next_state', size: saved.actor.spec.hidden };
      // a gated CommNet's stage 0 says whether it speaks
      if (saved.actor.spec.gated) graphs.gate = { output: 'gate' };
    } else if (isGruWeights(saved.actor)) {
      write(`${saved.role}/actor.onnx`, gruActorGraph(saved.actor, io));
      // a recurrent actor hears nobody either: it is its own fallback, state and all
      graphs = { kind: 'recurrent', actor: `${saved.role}/actor.onnx`, fallback: `${saved.role}/actor.onnx`, state: { input: 'state', output: 'next_state', size: saved.actor.spec.hidden } };
    } else {
      // (for IQL/VDN/QMIX the "logits" are the Q-values: the greedy action is their argmax either way)
      write(`${saved.role}/actor.onnx`, mlpActorGraph(saved.actor, io));
      // an MLP never hears anyone: it is its own fallback
      graphs = { kind: 'mlp', actor: `${saved.role}/actor.onnx`, fallback: `${saved.role}/actor.onnx` };
    }
    return {
      name: saved.role,
      agents: agents.map((i) => world.possibleAgents[i]),
      observation: { size: obsSize, fields: world.observationFields(agents[0]) },
      agent_id_size: io.agentIdSize,
      action,
      safe_action,
      graphs,
    };
  });
  // what observations look like in this world, so that a robot refuses what no world produces
  const bounds = observationBounds(config.world, config.worldConfig, checkpoint.roles.map((saved) => agentsOfRole(world.roles, saved.role)), config.seed);
  roles.forEach((role, r) => { role.observation = { ...role.observation, ...bounds[r] }; });
  const firstCommNet = checkpoint.roles.find((r) => isCommNetWeights(r.actor))?.actor;
  const configBytes = JSON.stringify(config);
  const placeholder = { samples: 1, max_abs_error: 0, action_mismatches: 0, tolerance: PARITY_TOLERANCE };
  const nominalPlaceholder = { episodes: 1, seed: 0, agent_return_mean: 0, team_return_mean: 0 };
  const manifest: Manifest = {
    schema_version: MANIFEST_SCHEMA_VERSION,
    name: o.name ?? `${world.id.replace(/_v\d+$/, '')}-${config.algo}-${actorKind}`.replace(/_/g, '-'),
    version: o.version ?? '1.0.0',
    world: { id: world.id, config: config.worldConfig, ...(config.worldModule ? { module: config.worldModule } : {}), ...(isRemoteWorld(config.world) ? { remote: config.world } : {}) },
    roles,
    communication: firstCommNet && isCommNetWeights(firstCommNet) ? {
      rounds: firstCommNet.spec.rounds,
      message_size: firstCommNet.spec.hidden,
      quantization: o.quantization,
      inbox_capacity: Math.max(...roles.map((r) => r.agents.length)) - 1,
      trained: { msg_dropout: comm?.msgDropout ?? 0, comm_radius: comm?.commRadius ?? null, agent_dropout: comm?.agentDropout ?? 0 },
    } : null,
    files,
    provenance: {
      algorithm: config.algo,
      actor: actorKind,
      env_steps: checkpoint.envSteps,
      seed: config.seed,
      config_digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`,
      train_command: o.trainCommand ?? null,
      source_commit: sourceCommit(),
      exported_at: new Date().toISOString(),
      fleetmind_version: '0.1.0',
    },
    evaluation: { nominal: nominalPlaceholder, quantized: null, msg_dropout_30: null },
    parity: placeholder,
  };
  const writeManifest = () => writeFileSync(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // written twice: parity and evaluation run on the bundle as the loader opens it (so they test
  // what a robot loads), then fill in their figures; the files it pins do not change
  writeManifest();

  const bundle = await loadBundle(o.out);
  try {
    progress('checking parity with TensorFlow.js');
    manifest.parity = await checkParity(checkpoint, bundle, world, o.paritySamples ?? 1024);
    const { max_abs_error: err, action_mismatches: mismatches, samples } = manifest.parity;
    if (err > PARITY_TOLERANCE || mismatches > 0) {
      throw new ParityError(`export parity failed: ONNX Runtime differs from TensorFlow.js by up to ${err.toExponential(2)} in the ${bundle.roles[0].spec.action.kind === 'continuous' ? 'action vectors' : 'logits'} (tolerance ${PARITY_TOLERANCE}) and in ${mismatches} of ${samples} greedy actions`);
    }
    const episodes = o.episodes ?? 200;
    const evaluate = async (opts: { msgDropout?: number; quantization?: Quantization }) => {
      const w = openWorld(config.world, { numEnvs: episodes, autoReset: false, config: config.worldConfig });
      const r = await evaluateControllerAsync(w, bundleController(w, bundle, { ...opts, quantization: opts.quantization ?? 'f32', seed: 0 }), 0);
      return { episodes, seed: 0, agent_return_mean: r.agent_return_mean, team_return_mean: r.team_return_mean };
    };
    progress(`evaluating ${episodes} episodes`);
    manifest.evaluation.nominal = await evaluate({});
    if (commnet) {
      if (o.quantization !== 'f32') manifest.evaluation.quantized = { ...(await evaluate({ quantization: o.quantization })), quantization: o.quantization };
      manifest.evaluation.msg_dropout_30 = await evaluate({ msgDropout: 0.3, quantization: o.quantization });
    }
  } finally {
    await bundle.close();
  }
  writeManifest();
  return parseManifest(readFileSync(join(o.out, 'manifest.json'), 'utf8'));
}

/**
 * Logits — or, for continuous actions, action vectors — of the checkpoint's actors
 * (TensorFlow.js) against the bundle's graphs (ONNX Runtime) on observations from random play
 * and masks with 30 % of links cut. A recurrent actor is checked over sequences: each side
 * carries its own state for RECURRENT_PARITY_STEPS steps (so its error may grow, as on a robot),
 * and a tenth of the agents forget at random each step beside the episodes' own resets.
 */
async function checkParity(checkpoint: NetworkCheckpoint, bundle: LoadedBundle, world: World, samples: number) {
  const rng = new Rng(checkpoint.config.seed, 0x9a1);
  let maxErr = 0;
  let mismatches = 0;
  let total = 0;
  for (const [r, saved] of checkpoint.roles.entries()) {
    const policy = bundle.roles[r];
    const agents = policy.spec.agents.map((id) => world.possibleAgents.indexOf(id));
    const k = agents.length;
    const actor = actorFromWeights(saved.actor, new Rng(0));
    const runner = new RoleRunner(policy, bundle.manifest.communication?.message_size ?? 0);
    const envs = Math.ceil(samples / k / 4);
    const w = openWorld(checkpoint.config.world, { numEnvs: envs, config: checkpoint.config.worldConfig });
    let { observations } = w.reset(checkpoint.config.seed + 7);
    const wander = randomController(w, checkpoint.config.seed);
    const continuous = policy.spec.action.kind === 'continuous';
    const actions = continuous ? new Float32Array(envs * w.possibleAgents.length * runner.actionWidth) : new Int32Array(envs * w.possibleAgents.length);
    const memory = actor.stateSize > 0 ? newActorMemory(actor, envs * k) : null;
    let onnxState: Float32Array = new Float32Array(envs * k * actor.stateSize);
    for (let step = 0; step < (memory ? RECURRENT_PARITY_STEPS : 4); step++) {
      const x = new Float32Array(envs * k * actor.inputSize);
      writeActorInputs({ agents, obsDim: policy.spec.observation.size }, observations, envs, checkpoint.config.agentId, x);
      const masks = actor.rounds > 0 ? sampleCommMask(rng, { numEnvs: envs, numAgents: k, rounds: actor.rounds, dropout: 0.3 }) : null;
      if (memory) {
        for (let row = 0; row < envs * k; row++) {
          if (w.stepsInEpisode(Math.floor(row / k)) === 0 || rng.next() < 0.1) {
            memory.resets[row] = 1;
            onnxState.fill(0, row * actor.stateSize, (row + 1) * actor.stateSize);
          }
        }
      }
      // (a gated actor gates the masks it is given: ONNX gets them as they were, and gates them itself)
      let spoke: Float32Array | null = null;
      const raw = actorLogits(actor, x, masks?.slice() ?? null, k, { memory: memory ?? undefined, speakers: (gateLogits) => (spoke = greedySpeakers(gateLogits)) });
      const expected = continuous ? greedyContinuous(checkpoint.config, w.actionSpace(agents[0]))(raw) : raw;
      const obs = new Float32Array(envs * k * runner.obsSize);
      for (let env = 0; env < envs; env++) agents.forEach((a, q) => obs.set(observations[a].subarray(env * runner.obsSize, (env + 1) * runner.obsSize), (env * k + q) * runner.obsSize));
      const got = await teamStep(runner, obs, runner.agentIds(Int32Array.from({ length: envs * k }, (_, row) => row % k)), masks, k, 'f32', memory ? onnxState : undefined);
      if (memory) onnxState = got.nextState!;
      for (let row = 0; row < envs * k && continuous; row++) {
        for (let d = 0; d < runner.actionWidth; d++) maxErr = Math.max(maxErr, Math.abs(expected[row * runner.actionWidth + d] - got.actions[row * runner.actionWidth + d]));
        total++;
      }
      for (let row = 0; row < envs * k && !continuous; row++) {
        let best = 0;
        for (let a = 0; a < runner.numActions; a++) {
          const q = row * runner.numActions + a;
          maxErr = Math.max(maxErr, Math.abs(expected[q] - got.logits[q]));
          if (expected[q] > expected[row * runner.numActions + best]) best = a;
        }
        if (best !== got.actions[row]) mismatches++;
        total++;
      }
      // a gated actor: whether each agent spoke is a decision too
      if (actor.gated) for (let row = 0; row < envs * k; row++) if (spoke![row] !== got.speaks![row]) mismatches++;
      // move on with random actions so the samples cover more than starting states
      wander.act(observations, actions);
      observations = w.step(actions).observations;
    }
    actor.dispose();
  }
  return { samples: total, max_abs_error: maxErr, action_mismatches: mismatches, tolerance: PARITY_TOLERANCE };
}
