// The inputs and outputs each graph of a bundle must have, derived from its manifest: the
// contract between the exporter, `bundle verify` and the runtime.

import type { Manifest, RoleSpec } from './manifest.js';

export interface IoSpec {
  name: string;
  type: 'float32' | 'int64';
  /** fixed sizes, or names of dynamic dimensions */
  shape: (number | string)[];
}

export interface GraphIo {
  inputs: IoSpec[];
  outputs: IoSpec[];
}

function actorInputs(role: RoleSpec): IoSpec[] {
  const inputs: IoSpec[] = [{ name: 'obs', type: 'float32', shape: ['batch', role.observation.size] }];
  if (role.agent_id_size > 0) inputs.push({ name: 'agent_id', type: 'float32', shape: ['batch', role.agent_id_size] });
  return inputs;
}

function policyOutputs(role: RoleSpec): IoSpec[] {
  // a continuous policy's greedy action is its output: the vector, no logits
  if (role.action.kind === 'continuous') return [{ name: 'action', type: 'float32', shape: ['batch', role.action.size] }];
  return [{ name: 'logits', type: 'float32', shape: ['batch', role.action.n] }, { name: 'action', type: 'int64', shape: ['batch'] }];
}

/** file → the IO its graph must have */
export function expectedGraphIo(manifest: Manifest, role: RoleSpec): Map<string, GraphIo> {
  const io = new Map<string, GraphIo>();
  const g = role.graphs;
  if (g.kind === 'mlp') {
    io.set(g.actor, { inputs: actorInputs(role), outputs: policyOutputs(role) });
    io.set(g.fallback, { inputs: actorInputs(role), outputs: policyOutputs(role) });
    return io;
  }
  if (g.kind === 'recurrent') {
    const state: IoSpec = { name: g.state.input, type: 'float32', shape: ['batch', g.state.size] };
    const next: IoSpec = { name: g.state.output, type: 'float32', shape: ['batch', g.state.size] };
    for (const file of [g.actor, g.fallback]) io.set(file, { inputs: [...actorInputs(role), state], outputs: [next, ...policyOutputs(role)] });
    return io;
  }
  const h = manifest.communication!.message_size;
  const next: IoSpec[] = [{ name: 'message', type: 'float32', shape: ['batch', h] }, { name: 'next_state', type: 'float32', shape: ['batch', h] }];
  // a CommNet-GRU's stage 0 and fallback also take its state and return the next
  const memoryIn: IoSpec[] = g.state ? [{ name: g.state.input, type: 'float32', shape: ['batch', g.state.size] }] : [];
  const memoryOut: IoSpec[] = g.state ? [{ name: g.state.output, type: 'float32', shape: ['batch', g.state.size] }] : [];
  // a gated CommNet's stage 0 also says whether the agent speaks
  const gate: IoSpec[] = g.gate ? [{ name: g.gate.output, type: 'int64', shape: ['batch'] }] : [];
  g.stages.forEach((file, k) => {
    io.set(file, k === 0
      ? { inputs: [...actorInputs(role), ...memoryIn], outputs: [...next, ...gate] }
      : {
          inputs: [
            { name: 'state', type: 'float32', shape: ['batch', h] },
            { name: 'inbox', type: 'float32', shape: ['batch', 'capacity', h] },
            { name: 'mask', type: 'float32', shape: ['batch', 'capacity'] },
          ],
          outputs: next,
        });
  });
  io.set(g.final, { inputs: [{ name: 'state', type: 'float32', shape: ['batch', h] }], outputs: policyOutputs(role) });
  io.set(g.fallback, { inputs: [...actorInputs(role), ...memoryIn], outputs: [...memoryOut, ...policyOutputs(role)] });
  return io;
}
