// Serving a size-agnostic policy to a fleet of another size. A policy whose agents observe only
// their k nearest neighbours and carry no one-hot agent index computes the same function for any
// fleet: its graphs stay as they are (their inbox dimension is dynamic), only the manifest's
// fleet changes — the world's agent count, the agent ids, the inbox capacity (k).

import { copyFileSync, mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BundleError, parseManifest, type Manifest } from './manifest.js';
import { checkBundleFiles } from './loader.js';

export function resizeBundle(from: string, to: string, agents: number): Manifest {
  const { manifest } = checkBundleFiles(from);
  const neighbours = Number((manifest.world.config as { neighbours?: unknown }).neighbours);
  if (!Number.isInteger(neighbours)) throw new BundleError(`${from}: only a policy trained on k-nearest observations (world option neighbours) serves another fleet size`);
  if (manifest.roles.length !== 1 || manifest.roles[0].agent_id_size !== 0) throw new BundleError(`${from}: only a one-role policy without agent-id inputs serves another fleet size`);
  if (!Number.isInteger(agents) || agents <= neighbours) throw new BundleError(`a fleet of ${agents} is too small for ${neighbours} neighbours`);
  if (existsSync(to) && readdirSync(to).length > 0) throw new BundleError(`${to} is not empty`);
  const resized: Manifest = {
    ...manifest,
    name: `${manifest.name}-x${agents}`,
    world: { ...manifest.world, config: { ...manifest.world.config, N: agents } },
    roles: [{ ...manifest.roles[0], agents: Array.from({ length: agents }, (_, i) => `agent_${i}`) }],
    communication: manifest.communication && { ...manifest.communication, inbox_capacity: neighbours },
  };
  for (const file of Object.keys(manifest.files)) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(from, file), join(to, file));
  }
  const text = `${JSON.stringify(resized, null, 2)}\n`;
  parseManifest(text, join(to, 'manifest.json'));
  writeFileSync(join(to, 'manifest.json'), text);
  return resized;
}
