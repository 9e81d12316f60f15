// The safety shield: a hook between the policy and the actuator that may override an action it
// judges unsafe. The agent records every override (`shielded`). A shield is a plain function, so
// a robot integrator writes their own rules in a few lines.

import type { RoleSpec } from '@fleetmind/models';

export interface ShieldInput {
  observation: Float32Array;
  /** the discrete action (0 for a role with continuous actions) */
  action: number;
  /** a role with continuous actions: its vector (null for a discrete role) */
  vector: Float32Array | null;
  role: RoleSpec;
}

/**
 * Returns the action to take instead (an index, or a vector for a continuous role), or null to let
 * the policy's action through. A continuous role's vector is clamped into its box afterwards anyway.
 */
export type Shield = (input: ShieldInput) => number | Float32Array | null;

export class ShieldError extends Error {
  readonly code = 'FM_ERR_SHIELD';
}

const DIRECTIONS: Record<string, [number, number]> = { left: [-1, 0], right: [1, 0], down: [0, -1], up: [0, 1] };

export interface MpeShieldOptions {
  /** refuse to accelerate along the current velocity above this speed (world units / s) */
  maxSpeed?: number;
  /** refuse to move toward another agent nearer than this (world units) */
  minDistance?: number;
}

/**
 * For the MPE worlds (observations with self_vel and other agents' relative positions, actions
 * no_op/left/right/down/up): a speed limit and a guard against driving into a close neighbour.
 * An unsafe move becomes the role's safe action (no_op: MPE's damping then slows the agent).
 */
export function mpeShield(role: RoleSpec, options: MpeShieldOptions): Shield {
  const fields = role.observation.fields;
  const at = (name: string) => fields.indexOf(name);
  const vx = at('self_vel.x');
  const vy = at('self_vel.y');
  if (role.action.kind !== 'discrete') throw new ShieldError(`the MPE shield judges discrete moves; role ${role.name} has continuous actions (the box and the rate limit guard those)`);
  const safe = role.safe_action as number;
  if (vx < 0 || vy < 0) throw new ShieldError(`the MPE shield needs self_vel.x/y in the observation; role ${role.name} has ${fields.slice(0, 6).join(', ')}…`);
  const others = fields
    .map((f, k) => (/_rel\.x$/.test(f) && !f.startsWith('landmark_') && fields[k + 1] === f.replace(/\.x$/, '.y') ? k : -1))
    .filter((k) => k >= 0);
  const directions = role.action.names.map((n) => DIRECTIONS[n] ?? null);
  const { maxSpeed = Infinity, minDistance = 0 } = options;
  return ({ observation: o, action }) => {
    const d = directions[action];
    if (!d) return null;
    const v0 = o[vx];
    const v1 = o[vy];
    if (Math.hypot(v0, v1) > maxSpeed && d[0] * v0 + d[1] * v1 > 0) return safe;
    for (const k of others) {
      const rx = o[k];
      const ry = o[k + 1];
      if (Math.hypot(rx, ry) < minDistance && d[0] * rx + d[1] * ry > 0) return safe;
    }
    return null;
  };
}
