// Different controllers for different roles in one world: e.g. trained adversaries against the
// scripted prey. Each controller is asked for every agent's action; each role keeps its own.

import type { Controller } from './controller.js';

export function roleMixController(roles: readonly string[], byRole: Readonly<Record<string, Controller>>): Controller {
  const missing = [...new Set(roles)].filter((role) => !byRole[role]);
  if (missing.length > 0) throw new Error(`no controller for role ${missing.join(', ')}`);
  const n = roles.length;
  const scratch = new Map<Controller, Int32Array>();
  return {
    act(observations, actions) {
      if (!(actions instanceof Int32Array)) throw new Error('a role mix plays discrete actions (one value an agent)');
      for (const controller of new Set(Object.values(byRole))) {
        let out = scratch.get(controller);
        if (!out || out.length !== actions.length) { out = new Int32Array(actions.length); scratch.set(controller, out); }
        controller.act(observations, out);
      }
      for (let j = 0; j < actions.length; j++) actions[j] = scratch.get(byRole[roles[j % n]])![j];
    },
  };
}
