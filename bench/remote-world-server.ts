// The bench's world server, in its own process: `node remote-world-server.js <world id | plugin
// module> <listen address>` serves the world and prints "serving <id> on <url>".

import { isWorldModulePath, loadWorldPlugin, makeWorld, serveWorld } from '@fleetmind/worlds';

const [world, listen] = process.argv.slice(2);
const id = isWorldModulePath(world) ? await loadWorldPlugin(world) : world;
const server = await serveWorld({ listen, makeWorld: (numEnvs, autoReset, config) => makeWorld(id, { numEnvs, autoReset, config }) });
process.stdout.write(`serving ${id} on ${server.url}\n`);
