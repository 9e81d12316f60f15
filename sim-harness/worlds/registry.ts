// Every world fleetmind knows, by versioned id, with its options validated once here: the
// built-in ones, and the plugins loaded this process (plugin.ts checks and registers them).

import { z } from 'zod';
import { BatchedWorld, type WorldCore } from './batched-world.js';
import { SimpleSpreadCore } from './mpe/simple-spread.js';
import { SimpleTagCore } from './mpe/simple-tag.js';
import { GridPredatorPreyCore } from './grid-predator-prey.js';
import { JUNCTION_SHIELDS, TrafficJunctionCore } from './traffic-junction/traffic-junction.js';
import { PongCore } from './pong.js';
import { scriptedPongController } from './controllers/scripted-pong.js';
import { WorldError, type World, type WorldOptions } from './types.js';
import type { Controller } from './controllers/controller.js';
import { scriptedSpreadController } from './controllers/scripted-spread.js';
import { scriptedTagController } from './controllers/scripted-tag.js';
import { scriptedPredatorPreyController } from './controllers/scripted-predator-prey.js';
import { fifoJunctionController } from './controllers/fifo-junction.js';
import { isRemoteWorld } from './remote/endpoints.js';
import { RemoteWorld } from './remote/remote-world.js';

const count = (min: number, max: number) => z.number().int().min(min).max(max);
const rate = z.number().min(0).max(1);

export interface WorldEntry {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly summary: string;
  /** world-specific options (e.g. the number of agents); unknown keys are rejected */
  readonly configSchema: z.ZodType<Record<string, unknown>>;
  makeCore(numEnvs: number, config: Record<string, unknown>): WorldCore;
  /** the world's scripted reference controller, where it has one */
  scripted?(world: World): Controller;
  /** the scripted controller writes continuous actions itself; otherwise its discrete ones become one-hot pushes */
  readonly scriptsContinuous?: boolean;
  readonly jointSuccess: JointSuccess | null;
  /** a plugin: the absolute path of its module (runs and bundles record it, to load it again) */
  readonly module?: string;
}

const plugins: WorldEntry[] = [];

/** Makes a plugin's world known by its id (and its module's path) for the rest of the process. */
export function registerWorld(entry: WorldEntry): void {
  const taken = [...WORLDS, ...plugins].find((w) => w.id === entry.id || w.aliases.includes(entry.id));
  if (taken && taken.module !== entry.module) {
    throw new WorldError(`world id "${entry.id}" is taken by ${taken.module ? `the plugin ${taken.module}` : 'a built-in world'}: give the plugin another id`);
  }
  if (!taken) plugins.push(entry);
}

/** A plugin world's module path, or null for a built-in world. */
export function worldModuleOf(idOrAlias: string): string | null {
  if (isRemoteWorld(idOrAlias)) return null;
  return findEntry(idOrAlias).module ?? null;
}

/** Whether the world has a scripted reference controller. */
export function hasScriptedController(idOrAlias: string): boolean {
  if (isRemoteWorld(idOrAlias)) return false;
  return findEntry(idOrAlias).scripted !== undefined;
}

/** What "the team succeeded in this episode" means in a world, for reports and criteria. */
export interface JointSuccess {
  readonly description: string;
  /** from one episode's info values: at its last step, and summed over its steps */
  reached(episode: { final: Record<string, number>; total: Record<string, number> }, agents: number): boolean;
}

const WORLDS: readonly WorldEntry[] = [
  {
    id: 'simple_spread_v3',
    aliases: ['simple_spread', 'spread'],
    summary: 'MPE cooperative navigation: N agents cover N landmarks without colliding (exact to PettingZoo 1.25 / MPE2; continuousActions: true for Box(0, 1, (5,)) pushes)',
    configSchema: z.strictObject({
      N: count(2, 1000).optional().describe('agents and landmarks (default 3)'),
      localRatio: z.number().min(0).max(1).optional().describe('weight of the per-agent collision term against the shared coverage term (default 0.5)'),
      maxCycles: count(1, 100_000).optional().describe('episode length (default 25)'),
      neighbours: count(1, 999).optional().describe('observe only the k nearest landmarks and agents, nearest first (default: all, in index order)'),
      continuousActions: z.boolean().optional().describe("PettingZoo's continuous_actions: Box(0, 1, (5,)) pushes (default false)"),
      sensorDropout: z.number().min(0).max(1).optional().describe("partial observability: each step, each agent's sensing of the landmarks and other agents is lost with this probability (those fields read 0; a last field 'sensed' says which); its own position and velocity always arrive (default 0)"),
      landmarkRange: z.number().positive().max(100).optional().describe("landmarks start uniformly in [-r, r]² (default 1, PettingZoo's; the MAPPO paper's code uses 0.8); agents in [-1, 1]²"),
      teamReward: z.boolean().optional().describe("every agent is rewarded the team's mean reward (default false: its own; the MAPPO paper's code gives each the team's sum). The mean return per agent is the same either way"),
      integration: z.enum(['pettingzoo', 'original']).optional().describe("the order of a physics step: 'pettingzoo' (default, MPE2's: the position moves with the velocity the step began with) or 'original' (the original MPE's, which the MAPPO paper's code runs: the velocity first, then the position with the new one, so a push shows a step sooner)"),
    }).refine((c) => c.neighbours === undefined || c.neighbours <= (c.N ?? 3) - 1, { message: 'neighbours must be at most N - 1', path: ['neighbours'] })
      .refine((c) => c.neighbours !== undefined || (c.N ?? 3) <= 128, { message: "more than 128 agents need neighbours (k-nearest observations: full ones grow as N², 768 values each at N = 128)", path: ['N'] }),
    makeCore: (numEnvs, config) => new SimpleSpreadCore(numEnvs, config),
    // continuous actions: pushes in proportion, diagonals included (better than any one direction)
    scripted: (world) => scriptedSpreadController(world.possibleAgents.length, world.actionSpace(0).kind === 'continuous'),
    scriptsContinuous: true,
    jointSuccess: { description: 'every landmark covered at the end', reached: (e, agents) => e.final.occupied_landmarks >= agents },
  },
  {
    id: 'simple_tag_v3',
    aliases: ['simple_tag', 'tag'],
    summary: 'MPE predator-prey: slower adversaries chase a faster good agent around obstacles (exact to PettingZoo 1.25 / MPE2; continuousActions: true for Box(0, 1, (5,)) pushes)',
    configSchema: z.strictObject({
      numGood: count(1, 32).optional().describe('prey (default 1)'),
      numAdversaries: count(1, 32).optional().describe('pursuers (default 3)'),
      numObstacles: count(0, 32).optional().describe('obstacles (default 2)'),
      maxCycles: count(1, 100_000).optional().describe('episode length (default 25)'),
      continuousActions: z.boolean().optional().describe("PettingZoo's continuous_actions: Box(0, 1, (5,)) pushes (default false)"),
    }),
    makeCore: (numEnvs, config) => new SimpleTagCore(numEnvs, config),
    scripted: (world) => scriptedTagController(
      world.possibleAgents.map((a) => world.observationSpace(a).shape[0]),
      world.roles.filter((r) => r === 'adversary').length,
    ),
    jointSuccess: { description: 'the adversaries caught the prey at least once', reached: (e) => e.total.catches >= 1 },
  },
  {
    id: 'grid_predator_prey_v0',
    aliases: ['grid_predator_prey', 'predator_prey'],
    summary: "The seed notebook's grid world: predators must all close within 1.5 cells of one prey (10x10, 100 steps)",
    configSchema: z.strictObject({
      gridSize: count(3, 1000).optional().describe('side of the square grid (default 10)'),
      numPredators: count(1, 16).optional().describe('predators (default 3)'),
      maxCycles: count(1, 100_000).optional().describe('episode length (default 100)'),
    }),
    makeCore: (numEnvs, config) => new GridPredatorPreyCore(numEnvs, config),
    scripted: (world) => scriptedPredatorPreyController(world.roles.filter((r) => r === 'predator').length),
    jointSuccess: { description: 'the predators captured the prey', reached: (e) => e.final.captured >= 1 },
  },
  {
    id: 'traffic_junction_v0',
    aliases: ['traffic_junction', 'junction'],
    summary: "IC3Net's traffic junction, exact: cars come and go on one-way lanes and must cross without sharing a cell (difficulty: easy | medium | hard; shield: 'emergency-brake' | 'keep-clear')",
    configSchema: z.strictObject({
      difficulty: z.enum(['easy', 'medium', 'hard']).optional().describe("IC3Net's settings below, by difficulty (default easy)"),
      N: count(1, 200).optional().describe('cars at most (default 5 / 10 / 20)'),
      vision: count(0, 8).optional().describe('cells seen on each side (default 0 / 1 / 1)'),
      maxCycles: count(1, 100_000).optional().describe('episode length (default 20 / 40 / 80)'),
      addRateMin: rate.optional().describe('arrival probability per entry point and step, at the start of the curriculum (default 0.3 / 0.05 / 0.05)'),
      addRateMax: rate.optional().describe('the same at its end (default: addRateMin)'),
      currStart: count(0, 1e9).optional().describe("the curriculum's first epoch (an env's episodes; default 0: none)"),
      currEnd: count(0, 1e9).optional().describe("the curriculum's last epoch (default 0)"),
      shield: z.enum(['none', ...JUNCTION_SHIELDS]).optional().describe('emergency-brake: a car told to go brakes instead of moving onto a car; keep-clear: that, and no car waits on an arrival cell, or holds up the queue on one, when it can drive on (default none)'),
    }),
    makeCore: (numEnvs, config) => new TrafficJunctionCore(numEnvs, config),
    scripted: (world) => fifoJunctionController(world),
    jointSuccess: { description: 'no car crashed in the episode', reached: (e) => e.final.success >= 1 },
  },
  {
    id: 'pong_v0',
    aliases: ['pong'],
    summary: 'Multi-agent Pong: left against right, one or two paddles a side (paddlesPerSide), first to pointsToWin; zero-sum between sides, observations from each side',
    configSchema: z.strictObject({
      paddlesPerSide: count(1, 2).optional().describe('paddles a side; two share the goal, one half each (default 1)'),
      pointsToWin: count(1, 100).optional().describe('a game is won by the first side to this many points (default 3)'),
      maxCycles: count(1, 1_000_000).optional().describe('step limit of a game (default 1500)'),
      observeIntercept: z.boolean().optional().describe('also observe ball_y_at_line: where the ball will cross the paddle line it heads for, walls folded in (default false)'),
    }),
    makeCore: (numEnvs, config) => new PongCore(numEnvs, config),
    scripted: (world) => scriptedPongController(world.possibleAgents.length, world.observationSpace(0).shape[0], world.possibleAgents.length / 2),
    jointSuccess: { description: 'the left side won the game', reached: (e) => e.final.left_wins >= 1 },
  },
];

export interface MakeWorldOptions extends WorldOptions {
  /** world-specific options, e.g. { N: 6 } for simple_spread_v3 */
  config?: Record<string, unknown>;
}

/** The world's joint-success criterion (by id or alias), or null where it defines none. */
export function jointSuccessOf(idOrAlias: string): JointSuccess | null {
  if (isRemoteWorld(idOrAlias)) return null;
  return findEntry(idOrAlias).jointSuccess;
}

/** The ids (with aliases) of every world, built-in and loaded plugins. */
export function worldIds(): { id: string; aliases: readonly string[]; summary: string; module: string | null }[] {
  return [...WORLDS, ...plugins].map(({ id, aliases, summary, module }) => ({ id, aliases, summary, module: module ?? null }));
}

/** One world option as `fleetmind worlds` lists it: from the world's schema, so it cannot drift from what is checked. */
export interface WorldOptionInfo {
  name: string;
  /** integer, number, boolean, or the values it takes */
  type: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
}

/** The options a world takes (`--world-option key=value`), in the order its schema declares them. */
export function worldOptions(idOrAlias: string): WorldOptionInfo[] {
  const schema = z.toJSONSchema(findEntry(idOrAlias).configSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string; enum?: unknown[]; minimum?: number; maximum?: number; default?: unknown; description?: string }>;
  };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    type: p.enum ? p.enum.map(String).join(' | ') : p.type ?? 'any',
    ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
    ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(p.description ? { description: p.description } : {}),
  }));
}

/** Canonical id for an id or alias; throws a WorldError naming the known worlds otherwise. */
export function resolveWorldId(idOrAlias: string): string {
  if (isRemoteWorld(idOrAlias)) return idOrAlias; // the address is the id: a run resumes against it
  return findEntry(idOrAlias).id;
}

/**
 * Any world by id: an in-process one (built-in or plugin), or one served by simulators elsewhere
 * (remote:tcp://host:port[,…], see remote/endpoints.ts). What trainers and fleets use.
 */
export function openWorld(idOrAlias: string, options: MakeWorldOptions = {}): World {
  if (isRemoteWorld(idOrAlias)) return new RemoteWorld(idOrAlias, { numEnvs: options.numEnvs, autoReset: options.autoReset, config: options.config });
  return makeWorld(idOrAlias, options);
}

/** An in-process world by id (built-in or a loaded plugin), with everything BatchedWorld offers. */
export function makeWorld(idOrAlias: string, options: MakeWorldOptions = {}): BatchedWorld {
  if (isRemoteWorld(idOrAlias)) throw new WorldError(`${idOrAlias}: this needs an in-process world (a remote one is served elsewhere)`);
  const entry = findEntry(idOrAlias);
  const numEnvs = options.numEnvs ?? 1;
  if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new WorldError(`numEnvs must be a positive integer, got ${numEnvs}`);
  const parsed = entry.configSchema.safeParse(options.config ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new WorldError(`${entry.id} options are invalid: ${problems}`);
  }
  return new BatchedWorld(entry.makeCore(numEnvs, parsed.data), { numEnvs, autoReset: options.autoReset ?? true });
}

/** The world's scripted reference controller (a baseline, and later a fallback policy). */
export function scriptedController(world: World): Controller {
  if (world instanceof RemoteWorld) throw new WorldError(`${world.id} at ${world.address} has no scripted controller here: a remote world's simulator serves it`);
  const entry = findEntry(world.id);
  const scripted = entry.scripted;
  if (!scripted) throw new WorldError(`${world.id} has no scripted controller${entry.module ? ` (its plugin ${entry.module} exports none)` : ''}`);
  const space = world.actionSpace(0);
  if (space.kind === 'discrete' || entry.scriptsContinuous) return scripted(world);
  // the scripted controllers read observations only: built for the world, they choose discrete pushes
  return oneHotPushes(scripted(world), space.shape[0]);
}

/**
 * The MPE worlds' continuous actions push in the order of their discrete ones, so the one-hot
 * vector e_k acts exactly as discrete action k: a discrete controller drives a continuous world.
 */
function oneHotPushes(discrete: Controller, d: number): Controller {
  let chosen = new Int32Array(0);
  return {
    act(observations, actions) {
      const rows = actions.length / d;
      if (chosen.length !== rows) chosen = new Int32Array(rows);
      discrete.act(observations, chosen);
      actions.fill(0);
      for (let row = 0; row < rows; row++) actions[row * d + chosen[row]] = 1;
    },
  };
}

function findEntry(idOrAlias: string): WorldEntry {
  const entry = [...WORLDS, ...plugins].find((w) => w.id === idOrAlias || w.aliases.includes(idOrAlias));
  if (!entry) {
    throw new WorldError(`unknown world "${idOrAlias}"; known worlds: ${[...WORLDS, ...plugins].map((w) => w.id).join(', ')} (or a plugin: --world ./path/to/my-world.js)`);
  }
  return entry;
}
