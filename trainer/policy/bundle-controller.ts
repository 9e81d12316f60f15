// A bundle's ONNX graphs playing a batched world in-process (no broker): every agent of a
// role in one ONNX Runtime call per stage. For a CommNet, each round builds every agent's inbox
// from its teammates' messages (quantized as the bundle says, as they would cross the wire) and
// the mask of who was heard (teamStep) — the reference the simulated fleet must reproduce. A
// recurrent role keeps each agent's state between steps and zeroes it where a robot would forget
// (policy/forgetting.ts).

import { recurrentStateSize, RoleRunner, teamStep, type LoadedBundle, type Quantization } from '@fleetmind/models';
import { evaluationRng, TeamChannel, type AsyncController, type World } from '@fleetmind/worlds';
import { Forgetting } from './forgetting.js';

export interface BundleEvalOptions {
  /** probability that a message on one link in one round is lost */
  msgDropout?: number;
  /** probability that an agent is silent for the whole episode */
  agentDropout?: number;
  /** seeds lost messages and silent agents (the same streams as `eval --run`) */
  seed?: number;
  /** message quantization; default: the bundle's */
  quantization?: Quantization;
  /** play only these roles of the bundle (default: all); the caller fills the others' actions */
  roles?: readonly string[];
}

type RoleSpec = LoadedBundle['roles'][number]['spec'];

/** The world's agent observes and acts as the bundle's role was exported to (a world played with other options may not). */
function checkSpaces(world: World, spec: RoleSpec, id: string): void {
  const observed = world.observationSpace(id).shape[0];
  if (observed !== spec.observation.size) {
    throw new Error(`${id} observes ${observed} values in this ${world.id}, the bundle's role ${spec.name} ${spec.observation.size}`);
  }
  const space = world.actionSpace(id);
  const fits = space.kind === 'discrete' ? spec.action.kind === 'discrete' && spec.action.n === space.n
    : spec.action.kind === 'continuous' && spec.action.size === space.shape[0];
  if (!fits) {
    const wants = spec.action.kind === 'discrete' ? `Discrete(${spec.action.n})` : `a box of ${spec.action.size}`;
    const has = space.kind === 'discrete' ? `Discrete(${space.n})` : `a box of ${space.shape[0]}`;
    throw new Error(`${id} acts in ${has} in this ${world.id}, the bundle's role ${spec.name} in ${wants}`);
  }
}

export function bundleController(world: World, bundle: LoadedBundle, options: BundleEvalOptions = {}): AsyncController {
  const { manifest } = bundle;
  if (manifest.world.id !== world.id) throw new Error(`the bundle is for ${manifest.world.id}, the world is ${world.id}`);
  const n = world.possibleAgents.length;
  const e = world.numEnvs;
  const rng = evaluationRng(options.seed ?? 0);
  const quantization = options.quantization ?? manifest.communication?.quantization ?? 'f32';
  const H = manifest.communication?.message_size ?? 0;
  const unknown = (options.roles ?? []).filter((role) => !bundle.roles.some((policy) => policy.spec.name === role));
  if (unknown.length > 0) throw new Error(`the bundle has no role ${unknown.join(', ')} (roles: ${bundle.roles.map((policy) => policy.spec.name).join(', ')})`);
  const played = bundle.roles.filter((policy) => !options.roles || options.roles.includes(policy.spec.name));
  const roles = played.map((policy) => {
    const agents = policy.spec.agents.map((id) => {
      const i = world.possibleAgents.indexOf(id);
      if (i < 0) throw new Error(`the bundle's agent "${id}" is not in ${world.id} (agents: ${world.possibleAgents.join(', ')})`);
      checkSpaces(world, policy.spec, id);
      return i;
    });
    // a continuous action and a recurrent state go row by row, as each robot runs them (role-runner.ts says why)
    const runner = new RoleRunner(policy, H, { rowByRow: policy.spec.action.kind === 'continuous' || recurrentStateSize(policy.spec) > 0 });
    const channel = TeamChannel.forEvaluation(world, agents, {
      rounds: runner.rounds,
      msgDropout: options.msgDropout ?? 0,
      commRadius: manifest.communication?.trained.comm_radius ?? null,
      agentDropout: options.agentDropout ?? 0,
    }, rng);
    const k = agents.length;
    const agentId = runner.agentIds(Int32Array.from({ length: e * k }, (_, row) => row % k));
    const memory = runner.stateSize > 0 ? { state: new Float32Array(e * k * runner.stateSize) as Float32Array, resets: new Uint8Array(e * k), forgetting: new Forgetting(world, agents, e * k) } : null;
    return { agents, runner, channel, agentId, memory };
  });

  return {
    async act(observations, actions) {
      for (const { agents, runner, channel, agentId, memory } of roles) {
        const k = agents.length;
        const obsSize = runner.obsSize;
        const obs = new Float32Array(e * k * obsSize);
        for (let env = 0; env < e; env++) {
          agents.forEach((agent, q) => obs.set(observations[agent].subarray(env * obsSize, (env + 1) * obsSize), (env * k + q) * obsSize));
        }
        const masks = runner.rounds > 0 ? channel.sample(rng) : null;
        if (memory) {
          memory.forgetting.mark(memory.resets, e);
          const H = runner.stateSize;
          for (let row = 0; row < e * k; row++) if (memory.resets[row]) memory.state.fill(0, row * H, (row + 1) * H);
          memory.resets.fill(0);
        }
        const out = await teamStep(runner, obs, agentId, masks, k, quantization, memory?.state);
        if (memory) memory.state = out.nextState!;
        const w = runner.actionWidth;
        for (let row = 0; row < e * k; row++) {
          const slot = (Math.floor(row / k) * n + agents[row % k]) * w;
          for (let d = 0; d < w; d++) actions[slot + d] = out.actions[row * w + d];
        }
      }
    },
  };
}
