// The trainer's front door for settings: a run's configuration is the algorithm's defaults
// under the settings given, validated once here with the algorithms' own schemas. A setting the
// algorithm does not take is refused by name (with the algorithms that do take it), and so is a
// setting that only means something with another one; the world is checked before any work.
// No TensorFlow.js: the command line calls this before loading the trainer.

import { z } from 'zod';
import { roleGroups, type World } from '@fleetmind/worlds';
import { defaultMappoConfig, mappoConfigSchema } from './mappo-config.js';
import { defaultQLearningConfig, qLearningConfigSchema } from './q-learning-config.js';
import { defaultMaddpgConfig, maddpgConfigSchema } from './maddpg-config.js';
import { defaultTabularIqlConfig, tabularIqlConfigSchema } from './iql-tabular-config.js';

export const trainingConfigSchema = z.discriminatedUnion('algo', [mappoConfigSchema, qLearningConfigSchema, maddpgConfigSchema, tabularIqlConfigSchema]);
export type TrainingConfig = z.infer<typeof trainingConfigSchema>;
export type Algo = TrainingConfig['algo'];
export const ALGOS = ['mappo', 'ippo', 'iql', 'iql-tabular', 'vdn', 'qmix', 'maddpg'] as const satisfies readonly Algo[];

const SCHEMAS: Record<Algo, z.ZodObject> = {
  mappo: mappoConfigSchema, ippo: mappoConfigSchema, iql: qLearningConfigSchema, vdn: qLearningConfigSchema, qmix: qLearningConfigSchema,
  maddpg: maddpgConfigSchema, 'iql-tabular': tabularIqlConfigSchema,
};

export function defaultConfigFor(algo: Algo): TrainingConfig {
  switch (algo) {
    case 'mappo': case 'ippo': return { ...defaultMappoConfig, algo };
    case 'iql': case 'vdn': case 'qmix': return { ...defaultQLearningConfig, algo };
    case 'maddpg': return { ...defaultMaddpgConfig };
    case 'iql-tabular': return { ...defaultTabularIqlConfig };
  }
}

/** The algorithms whose configuration has this setting. */
export function algosTaking(key: string): Algo[] {
  return ALGOS.filter((algo) => key in SCHEMAS[algo].shape);
}

/**
 * A setting that is refused, with where: `settings` names the keys (several when they are refused
 * together, e.g. all the settings an algorithm does not take); `needs` the setting they only
 * make sense with, and `requirement` what of it they need, in words.
 */
export class TrainingConfigError extends Error {
  readonly code = 'FM_ERR_CONFIG';
  constructor(readonly settings: string[], readonly reason: 'unknown' | 'invalid' | 'needs' | 'world', message: string, readonly needs?: string, readonly requirement?: string) {
    super(message);
  }
}

const communicates = (actor: unknown) => actor === 'commnet' || actor === 'tarmac' || actor === 'commnet-gru' || actor === 'tarmac-gru';
const remembers = (actor: unknown) => actor === 'gru' || actor === 'commnet-gru' || actor === 'tarmac-gru';

/** settings that mean something only alongside another: [setting, what it needs, said how, the test] */
const DEPENDENT_SETTINGS: [string, string, string, (c: Record<string, unknown>) => boolean][] = [
  ['msgDropout', 'actor', 'a communicating actor (commnet, tarmac, commnet-gru, tarmac-gru)', (c) => communicates(c.actor)],
  ['agentDropout', 'actor', 'a communicating actor (commnet, tarmac, commnet-gru, tarmac-gru)', (c) => communicates(c.actor)],
  ['commRadius', 'actor', 'a communicating actor (commnet, tarmac, commnet-gru, tarmac-gru)', (c) => communicates(c.actor)],
  ['scriptedOpponent', 'selfPlay', 'selfPlay on', (c) => c.selfPlay === true],
  ['chunkLength', 'actor', 'a recurrent actor (gru, commnet-gru, tarmac-gru)', (c) => remembers(c.actor)],
  ['gate', 'actor', 'a communicating actor (commnet, tarmac, commnet-gru, tarmac-gru)', (c) => c.gate !== true || communicates(c.actor)],
  ['messageCost', 'gate', 'gate on (only a gated actor chooses whether to speak)', (c) => c.gate === true],
  ['actionBins', 'actionDistribution', 'actionDistribution bins', (c) => c.actionDistribution === 'bins'],
  ['squashActions', 'actionDistribution', 'the Gaussian with a learned constant std (--set actionDistribution=gaussian; the default is beta)', (c) => c.squashActions !== true || c.actionDistribution === 'gaussian'],
  ['actionStd', 'actionDistribution', 'a Gaussian policy (--set actionDistribution=gaussian or gaussian-state; the default is beta)', (c) => c.actionDistribution === 'gaussian' || c.actionDistribution === 'gaussian-state'],
];

/**
 * The configuration of a run: `settings.algo`'s defaults under the given settings (undefined
 * ones are left out), validated. Throws TrainingConfigError naming the setting.
 */
export function resolveTrainingConfig(settings: { algo: Algo } & Record<string, unknown>): TrainingConfig {
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  const { algo } = settings;
  if (!(ALGOS as readonly string[]).includes(algo)) throw new TrainingConfigError(['algo'], 'invalid', `unknown algorithm "${algo}" (${ALGOS.join(', ')})`);
  const unknown = Object.keys(given).filter((key) => !(key in SCHEMAS[algo].shape));
  if (unknown.length > 0) {
    const takers = [...new Set(unknown.flatMap(algosTaking))];
    throw new TrainingConfigError(unknown, 'unknown', `${unknown.join(', ')}: not ${algo} settings${takers.length ? ` (settings of ${takers.join('/')})` : ''}`);
  }
  const config = { ...defaultConfigFor(algo), ...given } as Record<string, unknown>;
  for (const [setting, needs, said, ok] of DEPENDENT_SETTINGS) {
    if (setting in given && !ok(config)) {
      throw new TrainingConfigError([setting], 'needs', `${setting} needs ${said}`, needs, said);
    }
  }
  if (remembers(config.actor) && typeof config.chunkLength === 'number' && (config.rolloutSteps as number) % config.chunkLength !== 0) {
    throw new TrainingConfigError(['chunkLength'], 'invalid', `chunkLength ${config.chunkLength} does not divide rolloutSteps ${config.rolloutSteps}: each rollout is cut into whole chunks`);
  }
  if (remembers(config.actor) && config.selfPlay === true) {
    throw new TrainingConfigError(['actor'], 'invalid', 'a recurrent actor cannot play self-play yet: its frozen opponents would need their own memory (use actor "mlp", "commnet" or "tarmac")');
  }
  if ((algo === 'iql' || algo === 'vdn' || algo === 'qmix') && 'actor' in given && config.actor !== 'mlp' && config.actor !== 'gru') {
    throw new TrainingConfigError(['actor'], 'invalid', `${algo} learns each agent's Q-network: actor "mlp" or "gru"; a communicating actor ("${String(config.actor)}") is trained by mappo or ippo`);
  }
  if ((config.hiddenLayerNorm === true || (config.init ?? 'gaussian') !== 'gaussian') && (config.actor ?? 'mlp') !== 'mlp') {
    throw new TrainingConfigError([config.hiddenLayerNorm === true ? 'hiddenLayerNorm' : 'init'], 'invalid', `hiddenLayerNorm and init: 'orthogonal' are options of the MLP actor (and the critic); a ${String(config.actor)} actor has neither`);
  }
  if (config.criticInput === 'pooled' && algo !== 'mappo') {
    throw new TrainingConfigError(['criticInput'], 'invalid', `a pooled critic input is for MAPPO's centralized critic; ${algo}'s critic reads the agent's own observation already`);
  }
  return parseTrainingConfig(config);
}

/** Validates a whole configuration (e.g. one a program built itself): unknown keys and bad values refused. */
export function parseTrainingConfig(config: unknown): TrainingConfig {
  const parsed = trainingConfigSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0] ?? 'algo')];
  throw new TrainingConfigError(keys, issue.code === 'unrecognized_keys' ? 'unknown' : 'invalid', `${issue.path.join('.') || 'config'}: ${issue.message}`);
}

/** Checks a configuration against its world before any work; throws TrainingConfigError. */
export function checkConfigFitsWorld(config: TrainingConfig, world: World): void {
  if ('selfPlay' in config && config.selfPlay && new Set(world.roles).size < 2) {
    throw new TrainingConfigError(['selfPlay'], 'world', `self-play needs a world with two or more roles; ${world.id} has one`);
  }
  if ('sharedActor' in config && config.sharedActor) checkRolesAlike(world);
  if (config.algo === 'iql-tabular' && world.numDiscreteStates === null) {
    throw new TrainingConfigError(['algo'], 'world', `iql-tabular needs a world with a discrete state (grid_predator_prey); ${world.id} has none`);
  }
  const space = world.actionSpace(0);
  if (space.kind === 'continuous' && ['iql', 'vdn', 'qmix', 'iql-tabular'].includes(config.algo)) {
    throw new TrainingConfigError(['algo'], 'world', `${config.algo} needs discrete actions; ${world.id} here has continuous ones (Box of ${space.shape[0]}): use mappo, ippo or maddpg`);
  }
  // only MAPPO/IPPO leave inactive slots out of their losses; the others would learn from the zeros an absent agent observes
  if (world.comesAndGoes && !['mappo', 'ippo'].includes(config.algo)) {
    throw new TrainingConfigError(['algo'], 'world', `${config.algo} does not mask agents that are not in the episode, and ${world.id}'s agents come and go: use mappo or ippo`);
  }
}

/** One actor for every role needs roles that observe, act and number alike (its inputs and outputs are one shape). */
function checkRolesAlike(world: World): void {
  const groups = roleGroups(world.roles);
  if (groups.length < 2) throw new TrainingConfigError(['sharedActor'], 'world', `sharedActor shares one actor between roles; ${world.id} has one role`);
  const describe = ({ role, agents }: { role: string; agents: number[] }) => ({
    role,
    shape: `${agents.length} agent(s), observations of ${world.observationSpace(agents[0]).shape[0]}, actions ${JSON.stringify(world.actionSpace(agents[0]))}`,
  });
  const [first, ...others] = groups.map(describe);
  const unlike = others.find((other) => other.shape !== first.shape);
  if (unlike) throw new TrainingConfigError(['sharedActor'], 'world', `sharedActor needs roles alike; in ${world.id} role ${first.role} has ${first.shape} and role ${unlike.role} ${unlike.shape}`);
}

/** A resumed run's configuration with a new budget: total env steps, or episodes for the tabular learner. */
export function withBudget(config: TrainingConfig, budget: { steps?: number; episodes?: number }): TrainingConfig {
  switch (config.algo) {
    case 'iql-tabular': return { ...config, episodes: budget.episodes ?? config.episodes };
    case 'mappo': case 'ippo': return { ...config, totalSteps: budget.steps ?? config.totalSteps };
    default: return { ...config, totalSteps: budget.steps ?? config.totalSteps, maxEpisodes: budget.episodes ?? config.maxEpisodes };
  }
}
