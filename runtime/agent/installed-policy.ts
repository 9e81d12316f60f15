// The policy an agent runs: one role of a loaded bundle, the session that runs its graphs, and
// the safe action. An over-the-air rollout replaces it between two ticks, but only with one the
// agent's team and its robot can take without noticing anything but the policy: the same role,
// observation size, action space and message layout (which its peers, still on the old bundle,
// must understand in the same round). The observation's bounds may differ: they belong to the
// bundle, and the agent judges each observation by the bundle that acts on it.

import type { LoadedBundle, PolicySession, RoleSpec } from '@fleetmind/models';
import { bundleLayout } from '../rollout/bundle-offer.js';

export interface InstalledPolicy {
  bundle: LoadedBundle;
  /** the agent loaded it (and closes it when done); false where the caller lent it */
  owned: boolean;
  role: RoleSpec;
  runner: PolicySession;
  /** this agent's one-hot index input */
  agentIdInput: Float32Array;
  /** the safe action: its index (discrete) or its vector (continuous, else null) */
  safeIndex: number;
  safeVector: Float32Array | null;
}

export function installPolicy(bundle: LoadedBundle, owned: boolean, agentId: string, makeRunner: (role: LoadedBundle['roles'][number], messageSize: number) => PolicySession): InstalledPolicy {
  const { role, index } = bundle.agent(agentId);
  const runner = makeRunner(role, bundle.manifest.communication?.message_size ?? 0);
  const safe = role.spec.safe_action;
  return {
    bundle, owned, role: role.spec, runner, agentIdInput: runner.agentIds([index]),
    safeIndex: typeof safe === 'number' ? safe : 0,
    safeVector: Array.isArray(safe) ? Float32Array.from(safe) : null,
  };
}

/** Why `next` cannot replace `current` in a running team, or null when it can. */
export function switchProblem(current: InstalledPolicy, next: InstalledPolicy): string | null {
  const [a, b] = [current.bundle.manifest, next.bundle.manifest];
  if (bundleLayout(a) !== bundleLayout(b)) return `its message layout (${bundleLayout(b)}) differs from the team's (${bundleLayout(a)}): peers on the old bundle could not read its messages`;
  if (current.role.name !== next.role.name) return `it puts this agent in role ${next.role.name}, not ${current.role.name}`;
  if (JSON.stringify(current.role.action) !== JSON.stringify(next.role.action)) return 'its action space differs from the running bundle\'s';
  if (current.runner.obsSize !== next.runner.obsSize) return `its graphs take ${next.runner.obsSize} observation values, not ${current.runner.obsSize}`;
  return null;
}
