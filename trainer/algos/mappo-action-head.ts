// The distribution a MAPPO/IPPO run's settings give an agent's actions (rl/action-head.ts says
// how each is trained): a categorical for discrete actions; for a box, by actionDistribution.

import type { ActionSpace } from '@fleetmind/worlds';
import { BetaHead, BinnedHead, CategoricalHead, GaussianHead, StateStdGaussianHead, type ActionHead } from '../rl/action-head.js';
import { DEFAULT_ACTION_BINS } from '../rl/greedy-actions.js';
import type { MappoConfig } from './mappo-config.js';

export function actionHead(space: ActionSpace, config: MappoConfig): ActionHead {
  if (space.kind === 'discrete') return new CategoricalHead(space.n);
  // a run written before the Beta became the default names no distribution: it trained a Gaussian
  switch (config.actionDistribution ?? 'gaussian') {
    case 'beta': return new BetaHead(space);
    case 'bins': return new BinnedHead(space, config.actionBins ?? DEFAULT_ACTION_BINS);
    case 'gaussian-state': return new StateStdGaussianHead(space, config.actionStd ?? 0.5);
    case 'gaussian': return new GaussianHead(space, config.actionStd ?? 0.5, config.squashActions ?? false);
  }
}
