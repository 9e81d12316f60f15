// Different controllers for different roles in one world: e.g. trained adversaries against the
// scripted prey. Each controller is asked for every agent's action; each role keeps its own.

import type { Actions } from '../types.js';
import type { Controller } from './controller.js';

/** actionSize: values per agent's action (1 for discrete actions, D for continuous ones) */
export function roleMixController(roles: readonly string[], byRole: Readonly<Record<string, Controller>>, actionSize = 1): Controller {
  const missing = [...new Set(roles)].filter((role) => !byRole[role]);
  if (missing.length > 0) throw new Error(`no controller for role ${missing.join(', ')}`);
  const n = roles.length;
  const scratch = new Map<Controller, Actions>();
  return {
    act(observations, actions) {
      for (const controller of new Set(Object.values(byRole))) {
        let out = scratch.get(controller);
        if (!out || out.length !== actions.length) { out = actions instanceof Int32Array ? new Int32Array(actions.length) : new Float32Array(actions.length); scratch.set(controller, out); }
        controller.act(observations, out);
      }
      for (let j = 0; j < actions.length; j++) actions[j] = scratch.get(byRole[roles[Math.floor(j / actionSize) % n]])![j];
    },
  };
}
