// Who a verified client certificate names (certificates.ts issues them): CN the agent or user
// name, O the fleet, OU the role (agent, fleet, world or admin) — the same principal a users file would give, so the same ACLs
// apply. No X.509 library here: Node's TLS has already verified the chain and parsed the subject.

import { isValidId } from '@fleetmind/wire';
import { ROLES, type Principal, type Role } from './users-file.js';

/** The principal of a certificate subject; null when it does not name a valid identity. */
export function principalFromSubject(subject: { CN?: string | string[]; O?: string | string[]; OU?: string | string[] }): Principal | null {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);
  const name = one(subject.CN);
  const fleet = one(subject.O);
  const role = one(subject.OU) as Role | undefined;
  if (!name || !isValidId(name) || !role || !ROLES.includes(role)) return null;
  if (role === 'admin') return { username: name, role };
  if (!fleet || !isValidId(fleet)) return null;
  return role === 'agent' ? { username: name, role, fleet, agent: name } : { username: name, role, fleet };
}
