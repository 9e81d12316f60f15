// Agents grouped by role (PettingZoo worlds list each agent's role; a trainer shares parameters
// within a role): the one place that groups them.

/** Each role in order of its first agent, with the indices of its agents. */
export function roleGroups(roles: readonly string[]): { role: string; agents: number[] }[] {
  return [...new Set(roles)].map((role) => ({ role, agents: agentsOfRole(roles, role) }));
}

/** The indices of the agents playing `role`, in the world's order (empty when none does). */
export function agentsOfRole(roles: readonly string[], role: string): number[] {
  return roles.flatMap((r, i) => (r === role ? [i] : []));
}
