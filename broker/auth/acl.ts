// Who may publish and subscribe where, over the topic layout fm/<fleet>/… (ARCHITECTURE.md, "Topics").
//   agent: publishes msg, hb, act, status and its rollout report under its own fm/<fleet>/a/<agent>/; subscribes within its fleet
//   fleet: a process that hosts many agents of one fleet (`fleetmind fleet`, a gateway computer):
//          publishes what an agent publishes, under any agent of its fleet; subscribes within its fleet
//   world: publishes obs of any agent, tick, ctl and world of its fleet; subscribes within its fleet
//   rollouts (the plan and bundle chunks): admin only
//   admin: anything
// Pure functions, so the whole table can be tested.

import { parseTopic } from '@fleetmind/wire';
import type { Principal } from './users-file.js';

export type AclDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOW: AclDecision = { allowed: true };
const deny = (reason: string): AclDecision => ({ allowed: false, reason });

const AGENT_PUBLISHES = new Set(['msg', 'hb', 'act', 'status', 'rollout']);

export function authorizePublishTopic(user: Principal, topic: string): AclDecision {
  if (user.role === 'admin') return ALLOW;
  const t = parseTopic(topic);
  if (!t) return deny(`"${topic}" is not a fleetmind topic`);
  if (t.fleet !== user.fleet) return deny(`"${topic}" is outside fleet ${user.fleet}`);
  // a rollout's plan and bundle chunks: the operator's (an admin), never an agent's or a world's
  if (t.kind === 'bundle_chunk' || (t.kind === 'fleet' && t.channel === 'rollout')) return deny(`"${topic}" carries a rollout: only an admin publishes it`);
  if (user.role === 'agent') {
    if (t.kind !== 'agent' || t.agent !== user.agent) return deny(`agent ${user.agent} may publish only under fm/${user.fleet}/a/${user.agent}/`);
    if (!AGENT_PUBLISHES.has(t.channel)) return deny(`agent ${user.agent} may not publish ${t.channel} (the world writes observations)`);
    return ALLOW;
  }
  if (user.role === 'fleet') {
    if (t.kind !== 'agent') return deny(`fleet user ${user.username} publishes only under its agents' fm/${user.fleet}/a/<agent>/`);
    if (!AGENT_PUBLISHES.has(t.channel)) return deny(`fleet user ${user.username} may not publish ${t.channel} (the world writes observations)`);
    return ALLOW;
  }
  // world
  if (t.kind === 'fleet' || t.channel === 'obs') return ALLOW;
  return deny(`a world publishes observations, ticks and control, not ${t.channel}`);
}

export function authorizeSubscribeFilter(user: Principal, filter: string): AclDecision {
  if (user.role === 'admin') return ALLOW;
  const levels = filter.split('/');
  if (levels[0] !== 'fm' || levels[1] !== user.fleet || levels.length < 3) {
    return deny(`"${filter}" is outside fm/${user.fleet}/`);
  }
  return ALLOW;
}

/** A client id must be the username, or `<username>:<suffix>` for a second connection. */
export function clientIdMatches(username: string, clientId: string): boolean {
  return clientId === username || (clientId.startsWith(`${username}:`) && clientId.length > username.length + 1);
}
