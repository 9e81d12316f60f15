// Named sets of training settings (`fleetmind train --preset NAME`): someone else's published
// configuration, reproduced setting by setting, so a run can be compared with theirs at the same
// number of env steps. A preset lies under the flags: any flag or --set given beside it wins.
// Plain data, no TensorFlow.js: the command line reads it before loading the trainer.

import type { Algo } from './training-config.js';

export interface TrainingPreset {
  /** the algorithms it configures */
  algos: readonly Algo[];
  /** what it is and where it comes from */
  summary: string;
  settings: Record<string, unknown>;
}

export const TRAINING_PRESETS: Record<string, TrainingPreset> = {
  /**
   * The MAPPO paper's recurrent MAPPO on MPE (Yu et al. 2022; its code's train_mpe.sh for
   * simple_spread: 128 rollout threads, episode length 25, 10 PPO epochs of one minibatch, lr and
   * critic lr 7e-4, ReLU, gain 0.01, the recurrent policy; and its config.py's defaults: hidden 64,
   * a GRU of one layer, feature normalisation, value normalisation, clipped value loss at the PPO
   * clip 0.2, entropy 0.01, gradient norm 10, no learning-rate decay). Where fleetmind differs:
   * training chunks of 5 steps, not 10 (a chunk must divide the 25-step rollout here: the default
   * chunk for it, so --actor mlp beside the preset is the paper's feed-forward MAPPO); one encoder
   * layer before the GRU, not two; a squared value loss, not Huber's; the critic is feed-forward on
   * the global state, not recurrent, so it is told the fraction of the episode elapsed, which the
   * paper's recurrent critic can count for itself (without it a first run here sat at a training
   * return of −20 from 200 k to 540 k steps); no agent id in the actor's input, as in the paper's
   * shared policy on MPE. Meant for comparing with the paper's results, and for simulators whose
   * steps are dear. Measured here on simple_spread (seed 1): greedy −13.34 per agent at 1.56 M steps
   * on PettingZoo's world; on the paper code's own world (landmarkRange=0.8, integration=original,
   * teamReward=true) −9.87 at 1.56 M and −8.08 at 2.79 M, where the issue puts that code at about
   * −8.3 and −7.5; the defaults learn faster per env step: README, "Recurrent actors".
   */
  'rmappo-mpe': {
    algos: ['mappo', 'ippo'],
    summary: 'the MAPPO paper\'s recurrent MAPPO settings for MPE (to compare with its results; slower per step than the defaults)',
    settings: {
      actor: 'gru', numEnvs: 128, rolloutSteps: 25, epochs: 10, minibatches: 1, lr: 7e-4, criticLr: 7e-4, lrDecay: false,
      activation: 'relu', hidden: [64, 64], inputLayerNorm: true, agentId: false, criticTimeFeature: true, valueNorm: true, valueClip: 0.2,
      clip: 0.2, entropyCoef: 0.01, gamma: 0.99, lambda: 0.95, maxGradNorm: 10,
    },
  },
};
