// Playing whole episodes with a controller and summarising them the way `fleetmind eval` reports:
// an agent's return is its summed reward over an episode; the team return sums over agents.

import type { Controller } from './controllers/controller.js';
import type { World } from './types.js';

export interface EvaluationReport {
  episodes: number;
  seed: number;
  /** mean over agents and episodes of an agent's episode return */
  agent_return_mean: number;
  agent_return_std: number;
  team_return_mean: number;
  episode_team_returns: number[];
  /** mean agent return per role (e.g. adversary vs agent in simple_tag) */
  role_return_mean: Record<string, number>;
  /** per info key: mean over episodes of its per-episode sum, and `<key>_final`: its mean on the last step */
  outcomes: Record<string, number>;
}

/**
 * Plays one episode in each env of `world` (built with autoReset: false and numEnvs = episodes),
 * so episode k is env k seeded from (seed, k) whatever else runs.
 */
export function evaluateController(world: World, controller: Controller, seed: number): EvaluationReport {
  const e = world.numEnvs;
  const n = world.possibleAgents.length;
  let { observations } = world.reset(seed);
  const actions = new Int32Array(e * n);
  const agentReturns = new Float64Array(e * n);
  const sums: Record<string, Float64Array> = {};
  const finals: Record<string, Float64Array> = {};
  for (const key of world.infoKeys) { sums[key] = new Float64Array(e); finals[key] = new Float64Array(e); }
  const ended = new Uint8Array(e);
  let remaining = e;
  while (remaining > 0) {
    controller.act(observations, actions);
    const r = world.step(actions);
    for (let env = 0; env < e; env++) {
      if (ended[env]) continue;
      for (let i = 0; i < n; i++) agentReturns[env * n + i] += r.rewards[env * n + i];
      for (const key of world.infoKeys) { sums[key][env] += r.infos[key][env]; finals[key][env] = r.infos[key][env]; }
      if (r.episodeEnded[env]) { ended[env] = 1; remaining--; }
    }
    observations = r.observations;
  }
  const mean = (xs: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i];
    return s / xs.length;
  };
  const agentMean = mean(agentReturns);
  const variance = mean(agentReturns.map((x) => (x - agentMean) ** 2));
  const teamReturns = Array.from({ length: e }, (_, env) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += agentReturns[env * n + i];
    return s;
  });
  const roleReturnMean: Record<string, number> = {};
  for (const role of new Set(world.roles)) {
    const values: number[] = [];
    for (let env = 0; env < e; env++) for (let i = 0; i < n; i++) if (world.roles[i] === role) values.push(agentReturns[env * n + i]);
    roleReturnMean[role] = mean(values);
  }
  const outcomes: Record<string, number> = {};
  for (const key of world.infoKeys) {
    outcomes[key] = mean(sums[key]);
    outcomes[`${key}_final`] = mean(finals[key]);
  }
  return {
    episodes: e,
    seed,
    agent_return_mean: agentMean,
    agent_return_std: Math.sqrt(variance),
    team_return_mean: mean(teamReturns),
    episode_team_returns: teamReturns,
    role_return_mean: roleReturnMean,
    outcomes,
  };
}
