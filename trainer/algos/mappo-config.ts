// The settings of a MAPPO/IPPO run and their defaults: plain data, no TensorFlow.js, so the
// command line can describe them without loading the trainer. The schema is the one source of
// the type; the trainer validates every run's settings with it (training-config.ts).

import { z } from 'zod';
import { networkFields, worldFields } from './run-fields.js';

export const mappoConfigSchema = z.strictObject({
  ...worldFields,
  /** mappo: critic on the global state; ippo: critic on the agent's observation */
  algo: z.enum(['mappo', 'ippo']),
  /** parallel environments */
  numEnvs: z.number().int().positive(),
  /** steps per env per rollout */
  rolloutSteps: z.number().int().positive(),
  /** total env steps (each env step moves every agent once) */
  totalSteps: z.number().int().positive(),
  /** actor and critic alike (criticHidden: the critic's own hidden widths) */
  ...networkFields,
  /** the critic's hidden layer widths, where they differ from the actor's (absent: hidden) */
  criticHidden: z.array(z.number().int().positive()).min(1).optional(),
  /**
   * normalise every hidden layer's output after its activation, as the MAPPO paper's MLP layers do
   * (Linear, activation, LayerNorm); MLP actors and critics (default false)
   */
  hiddenLayerNorm: z.boolean().optional(),
  /** initial weights of the MLP actors and critics: 'gaussian' (default) or 'orthogonal' (the MAPPO paper's code) */
  init: z.enum(['gaussian', 'orthogonal']).optional(),
  /** mlp: own observation only; commnet: also hears its teammates */
  /** tarmac: a CommNet whose rounds attend over the messages heard (TarMAC) instead of averaging them */
  /** gru: an MLP with a GRU cell that remembers past observations (rMAPPO's recurrent policy, nn/gru.ts) */
  /** commnet-gru: a CommNet whose stage 0 is a GRU cell: it remembers, and hears what its teammates remember */
  /** tarmac-gru: the same with TarMAC's attention */
  actor: z.enum(['mlp', 'commnet', 'tarmac', 'gru', 'commnet-gru', 'tarmac-gru']),
  /**
   * gru, commnet-gru: steps per training sequence (chunked BPTT): each rollout is cut into chunks of this many
   * steps, each replayed from the state the rollout had at its start (default: the longest
   * chunk of at most 10 steps, the MAPPO paper's, that divides rolloutSteps: 5 for 25). Must
   * divide rolloutSteps
   */
  chunkLength: z.number().int().positive().optional(),
  /** CommNet communication rounds K */
  commRounds: z.number().int().positive(),
  /**
   * a communicating actor: IC3Net's gate — each agent also chooses, every step, whether to send its
   * messages (a binary action trained by the same policy gradient); a silent agent still hears
   */
  gate: z.boolean().optional(),
  /**
   * gate: subtracted from an agent's training reward at each step it speaks (what a message costs;
   * the returns reported are the world's, without it). Default 0
   */
  messageCost: z.number().nonnegative().optional(),
  /** CommNet training: probability that a message on one link in one round is lost */
  msgDropout: z.number().min(0).max(1),
  /** CommNet training: only agents within this distance hear each other (null: all) */
  commRadius: z.number().positive().nullable(),
  /** CommNet training: probability that an agent is silent for a whole episode */
  agentDropout: z.number().min(0).max(1),
  lr: z.number().positive(),
  criticLr: z.number().positive(),
  /** decay both learning rates linearly to 0 over totalSteps */
  lrDecay: z.boolean(),
  epochs: z.number().int().positive(),
  minibatches: z.number().int().positive(),
  /**
   * each minibatch's gradient as the sum of this many parts (its blocks split in order), which
   * gradient workers compute side by side (`train --workers K`); the sum's rounding differs from
   * one part's, so the run's numbers depend on this, not on the threads (default 1)
   */
  gradientShards: z.number().int().positive().optional(),
  gamma: z.number().min(0).max(1),
  lambda: z.number().min(0).max(1),
  /** PPO ratio clip ε */
  clip: z.number().positive(),
  /** clip of the critic's change per update (in normalised units) */
  valueClip: z.number().positive(),
  /** entropy bonus of a categorical policy (discrete actions) */
  entropyCoef: z.number().nonnegative(),
  /**
   * entropy bonus of a continuous policy (absent: entropyCoef). Measured on continuous
   * simple_spread with the Gaussian, 7 M steps each: 0.01 without a cap on the std grew it without bound
   * (4–8 in the pushes that matter, 292 in the ignored no-op; −8.10 greedy); 0.01 with the std
   * capped at the box's half-width held it at the cap (−7.80); 0 let it collapse to 0.07 within
   * 2 M steps (−14.2 greedy there)
   */
  continuousEntropyCoef: z.number().nonnegative().optional(),
  /**
   * continuous actions, a Gaussian (actionDistribution gaussian or gaussian-state): each
   * component's initial standard deviation, as a fraction of its box's half-width (default 0.5);
   * the log-std then learns
   */
  actionStd: z.number().positive().optional(),
  /**
   * continuous actions, actionDistribution gaussian: pass the Gaussian's sample through tanh into the box (SAC's squash)
   * instead of letting the world clip it; the greedy action is the squashed mean, and the exported
   * actor ends in the same squash (default false: clipped)
   */
  squashActions: z.boolean().optional(),
  /**
   * continuous actions: the policy's distribution over the box. 'beta' (the default): a Beta per
   * component whose support is the box (rl/beta.ts), the actor giving both its shape parameters,
   * so the spread depends on the state; 'gaussian': a diagonal Gaussian with a learned constant
   * std, clipped or squashed (squashActions); 'gaussian-state': the Gaussian, clipped, with the
   * actor giving its log-std beside its mean; 'bins': a categorical per component over actionBins
   * values from low to high. A run whose configuration lacks the setting (written before the Beta
   * became the default) is a 'gaussian' one
   */
  actionDistribution: z.enum(['gaussian', 'gaussian-state', 'bins', 'beta']).optional(),
  /** actionDistribution bins: values per component, evenly spaced from low to high (default 11) */
  actionBins: z.number().int().min(2).optional(),
  maxGradNorm: z.number().positive(),
  /** normalise value targets with running statistics (MAPPO's ValueNorm) */
  valueNorm: z.boolean(),
  /**
   * append the fraction of the episode elapsed to the critic's input: with a step limit the
   * return still to come depends on it, and the critic cannot see it otherwise (the actor is unchanged)
   */
  criticTimeFeature: z.boolean().optional(),
  /**
   * mappo: what the centralized critic reads. 'state' (default): the world's global state, which
   * grows with the fleet and is read once per agent (a cost quadratic in N). 'pooled': the agent's
   * own observation beside the mean of its role's observations (an agent-specific state of fixed
   * size, as the MAPPO paper's agent-specific states): linear in N, for large k-nearest fleets
   */
  criticInput: z.enum(['state', 'pooled']).optional(),
  /**
   * Competitive worlds (e.g. simple_tag): both sides learn, each env training one role against
   * the other roles played by a past snapshot drawn from their pool.
   */
  selfPlay: z.boolean(),
  /** how many past snapshots of each role the opponents are drawn from */
  opponentPool: z.number().int().positive(),
  /** every this many updates each role's actor joins its pool (and the run measures itself) */
  snapshotEvery: z.number().int().positive(),
  /** self-play: the chance, per rollout and role, that the opponent is the world's scripted controller instead of a snapshot */
  scriptedOpponent: z.number().min(0).max(1).optional(),
  /** self-play: evaluation episodes of each measurement (every snapshotEvery updates) */
  selfPlayEpisodes: z.number().int().positive().optional(),
  /**
   * One actor for every role, where the roles observe and act alike (Pong's sides each observe
   * from their own end): each side's experience trains the one network, and the bundle holds it
   * for every role. The critics stay one per role. Default off: an actor per role
   */
  sharedActor: z.boolean().optional(),
});

export type MappoConfig = z.infer<typeof mappoConfigSchema>;

export const defaultMappoConfig: MappoConfig = {
  world: 'simple_spread_v3',
  worldConfig: {},
  algo: 'mappo',
  numEnvs: 128,
  rolloutSteps: 25,
  // the 20-minute budget on a 2-core machine (≈ 7,000 env-steps/s): measured −8.11 greedy after
  // 7 M steps (16.7 min); −8.6 was first reached at about 10 minutes
  totalSteps: 7_000_000,
  seed: 1,
  hidden: [64, 64],
  activation: 'tanh',
  // measured (320k steps): −18.9 with input LayerNorm, −19.6 without; ReLU + LayerNorm −20.6
  inputLayerNorm: true,
  agentId: true,
  actor: 'mlp',
  commRounds: 2,
  msgDropout: 0,
  commRadius: null,
  agentDropout: 0,
  // measured on simple_spread (320k steps): 7e-4 moved the policy by a KL of ~5e-4 per update
  // (clip fraction 0) and reached −20.4; 2e-3 reached −20 by 160k steps
  lr: 2e-3,
  criticLr: 2e-3,
  lrDecay: true,
  epochs: 5,
  minibatches: 2,
  gamma: 0.99,
  lambda: 0.95,
  clip: 0.2,
  // effectively off: a ±0.2 (normalised) clip held the critic at a value loss of ~0.47 where
  // unclipped it reached ~0.13, with a slightly better policy (−19.6 vs −20.0 at 320k steps)
  valueClip: 10,
  entropyCoef: 0.01,
  // continuous actions, measured with the Gaussian: 0.01 holds the std at its cap (half the box)
  // for all 7 M steps, so the greedy mean plays a little worse than the noisy policy it trained
  // (−7.80 vs about −7.6);
  // 0.001 shrank it to 0.1 by 1.5 M steps and played −14.5 there (−11.6 with 0.01); 0 collapsed it.
  // Narrowing the cap linearly over the run to 0.3 (or 0.1) of the half-width played −8.58 (−8.70):
  // a policy trained with less noise at the end is not a better greedy policy here
  continuousEntropyCoef: 0.01,
  // continuous simple_spread, 7 M steps, greedy per agent over five seeds: the Beta played by its
  // mode −7.56, −7.59, −7.54, −7.58, −7.46; the clipped Gaussian −7.80, −8.08, −7.78, −7.82, −8.09
  // (an update costs the Beta about 1.5 times the Gaussian's). Discrete actions ignore it
  actionDistribution: 'beta',
  maxGradNorm: 10,
  valueNorm: true,
  criticTimeFeature: true,
  selfPlay: false,
  opponentPool: 8,
  snapshotEvery: 10,
  scriptedOpponent: 0.25,
  selfPlayEpisodes: 50,
};
