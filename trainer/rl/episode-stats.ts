// What the training loops report about the episodes they play: each agent's return and the
// world's outcome sums (e.g. collisions), accumulated per env as steps come in and summarised
// over the episodes that finished since the last summary.

import type { World, StepResult } from '@fleetmind/worlds';
import { agentsOfRole } from '@fleetmind/worlds';
import type { EpisodeStatsState } from '../runs/checkpoint-schema.js';

export type { EpisodeStatsState };

export interface EpisodeSummary {
  episodes: number;
  /** mean per-agent return of the finished episodes (NaN if none finished) */
  agentReturnMean: number;
  /** per role, when the world has more than one */
  roleReturnMean: Record<string, number>;
  /** per info key: mean over the finished episodes of its per-episode sum */
  outcomes: Record<string, number>;
}

export class EpisodeStats {
  private readonly n: number;
  private readonly keys: readonly string[];
  private episodeReturn: Float64Array;
  private episodeInfo: Float64Array;
  private episodes = 0;
  /** episodes finished since training began */
  finished: number;
  private readonly finishedSum: Float64Array;
  private readonly outcomeSums: Float64Array;

  constructor(private readonly world: World, saved?: EpisodeStatsState) {
    this.n = world.possibleAgents.length;
    this.keys = world.infoKeys;
    this.episodeReturn = saved ? Float64Array.from(saved.episodeReturn) : new Float64Array(world.numEnvs * this.n);
    this.episodeInfo = saved ? Float64Array.from(saved.episodeInfo) : new Float64Array(world.numEnvs * this.keys.length);
    this.finishedSum = new Float64Array(this.n);
    this.outcomeSums = new Float64Array(this.keys.length);
    this.finished = saved?.finished ?? 0;
  }

  /** Adds one step of every env; calls onEnded(env) for each env whose episode just ended. */
  record(result: StepResult, onEnded?: (env: number) => void): void {
    const { n, keys } = this;
    for (let env = 0; env < this.world.numEnvs; env++) {
      for (let i = 0; i < n; i++) this.episodeReturn[env * n + i] += result.rewards[env * n + i];
      keys.forEach((key, q) => { this.episodeInfo[env * keys.length + q] += result.infos[key][env]; });
      if (!result.episodeEnded[env]) continue;
      this.episodes++;
      this.finished++;
      for (let i = 0; i < n; i++) { this.finishedSum[i] += this.episodeReturn[env * n + i]; this.episodeReturn[env * n + i] = 0; }
      keys.forEach((_, q) => { this.outcomeSums[q] += this.episodeInfo[env * keys.length + q]; this.episodeInfo[env * keys.length + q] = 0; });
      onEnded?.(env);
    }
  }

  /** The episodes finished since the last call, summarised; starts a new tally. */
  drain(): EpisodeSummary {
    const { n, episodes } = this;
    const roles = [...new Set(this.world.roles)];
    const roleReturnMean: Record<string, number> = {};
    if (roles.length > 1) {
      for (const role of roles) {
        const members = agentsOfRole(this.world.roles, role);
        roleReturnMean[role] = episodes ? members.reduce((s, i) => s + this.finishedSum[i], 0) / (members.length * episodes) : NaN;
      }
    }
    const outcomes: Record<string, number> = {};
    this.keys.forEach((key, q) => { outcomes[key] = episodes ? this.outcomeSums[q] / episodes : 0; });
    const summary = {
      episodes,
      agentReturnMean: episodes ? this.finishedSum.reduce((a, b) => a + b, 0) / (n * episodes) : NaN,
      roleReturnMean,
      outcomes,
    };
    this.episodes = 0;
    this.finishedSum.fill(0);
    this.outcomeSums.fill(0);
    return summary;
  }

  state(): EpisodeStatsState {
    return { episodeReturn: Array.from(this.episodeReturn), episodeInfo: Array.from(this.episodeInfo), finished: this.finished };
  }
}

/** The summary as metrics.jsonl fields. */
export function summaryMetrics(summary: EpisodeSummary): { 'train/episodes': number; 'train/agent_return_mean': number; [key: string]: number } {
  const metrics: { 'train/episodes': number; 'train/agent_return_mean': number; [key: string]: number } = {
    'train/episodes': summary.episodes,
    'train/agent_return_mean': summary.agentReturnMean,
  };
  for (const [role, value] of Object.entries(summary.roleReturnMean)) metrics[`train/${role}_return_mean`] = value;
  for (const [key, value] of Object.entries(summary.outcomes)) metrics[`outcomes/${key}`] = value;
  return metrics;
}
