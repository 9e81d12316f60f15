import type { Command } from 'commander';
import { isRemoteWorld, isWorldModulePath, loadWorldPlugin, makeWorld, openWorld, resolveWorldId, serveWorld, worldIds, worldOptions, type World, type WorldOptionInfo } from '@fleetmind/worlds';
import { CliError, EXIT_FAILED } from '../errors.js';
import { printJson } from '../output.js';

export function describeWorlds() {
  return worldIds().map(({ id, aliases, summary, module }) => ({
    ...describe(makeWorld(id), { id, aliases: module ? aliases.filter((a) => a !== module) : aliases, summary, ...(module ? { module } : {}) }),
    options: worldOptions(id),
  }));
}

/** A remote world as its simulator describes it at connect. */
function describeRemote(address: string) {
  const world = openWorld(address);
  try {
    // its options are the simulator's business: it was started with them
    return { ...describe(world, { id: world.id, aliases: [], summary: `served by the simulator at ${address.slice('remote:'.length)}`, remote: address }), options: [] as WorldOptionInfo[] };
  } finally {
    world.close();
  }
}

function describe(world: World, head: { id: string; aliases: readonly string[]; summary: string; module?: string; remote?: string }) {
  return {
    ...head,
    agents: world.possibleAgents.map((name, i) => ({
      name,
      role: world.roles[i],
      observation_space: world.observationSpace(i),
      action_space: world.actionSpace(i),
    })),
    state_size: world.stateSize,
    max_cycles: world.maxCycles,
    infos: world.infoKeys,
  };
}

/** "integer 2–1000", "boolean", "easy | medium | hard", "number ≥ 0" */
function optionRange(o: WorldOptionInfo): string {
  const bounds = o.minimum !== undefined && o.maximum !== undefined ? ` ${o.minimum}–${o.maximum}` : o.minimum !== undefined ? ` ≥ ${o.minimum}` : o.maximum !== undefined ? ` ≤ ${o.maximum}` : '';
  return `${o.type}${bounds}${o.default !== undefined ? ` (default ${JSON.stringify(o.default)})` : ''}`;
}

export function registerWorlds(program: Command): void {
  const worlds = program
    .command('worlds')
    .description('list the worlds with their agents, roles, observation and action spaces (default options) and the options each takes; `worlds check` checks a plugin; `worlds serve` serves one over the remote-world protocol')
    .option('--world <module|address>', 'also list a world plugin (an ES module whose default export defines a world, see examples/worlds/docking.js), or describe only the world a simulator serves (remote:tcp://host:port)')
    .option('--json', 'print one JSON array')
    .addHelpText('after', '\nExamples:\n  $ fleetmind worlds\n  $ fleetmind worlds --world examples/worlds/docking.js --json\n  $ fleetmind worlds --world remote:tcp://127.0.0.1:7000\n  $ fleetmind worlds check examples/worlds/docking.js')
    .action((opts: { world?: string; json?: boolean }) => {
      const worlds = opts.world && isRemoteWorld(opts.world) ? [describeRemote(opts.world)] : describeWorlds();
      if (opts.json) return printJson(worlds);
      for (const w of worlds) {
        process.stdout.write(`${w.id}  (${w.remote ? `remote: ${w.remote}` : w.module ? `plugin: ${w.module}` : `alias: ${w.aliases.join(', ')}`})\n  ${w.summary}\n`);
        const byRole = new Map<string, string[]>();
        for (const a of w.agents) {
          const action = a.action_space.kind === 'discrete' ? `Discrete(${a.action_space.n})` : `Box(${a.action_space.low[0]}, ${a.action_space.high[0]}, (${a.action_space.shape[0]},)) float32`;
          const key = `${a.role}: obs Box(${a.observation_space.shape[0]},) float32, action ${action}`;
          byRole.set(key, [...(byRole.get(key) ?? []), a.name]);
        }
        for (const [spaces, names] of byRole) process.stdout.write(`  ${names.join(', ')}\n    ${spaces}\n`);
        process.stdout.write(`  state ${w.state_size}, ${w.max_cycles} steps per episode, infos: ${w.infos.join(', ')}\n`);
        if (w.options.length > 0) {
          process.stdout.write('  options (--world-option key=value):\n');
          for (const option of w.options) process.stdout.write(`    ${option.name}  ${optionRange(option)}${option.description ? `  ${option.description}` : ''}\n`);
        }
        process.stdout.write('\n');
      }
    });

  registerWorldsServe(worlds);

  worlds
    .command('check <module>')
    .description('check a world plugin: load the module, check its definition member by member, and put the world it makes through the contract (PettingZoo\'s parallel_api_test for batched worlds: spaces, shapes, determinism, episodes that end, snapshots that restore exactly through JSON, refused bad actions); exit 0 when it passes')
    .option('--json', 'print {module, id, pass, error}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind worlds check examples/worlds/docking.js')
    .action(async (module: string, opts: { json?: boolean }) => {
      if (!isWorldModulePath(module)) throw new CliError(`worlds check takes a module path (./my-world.js); "${module}" looks like a world id`);
      try {
        const id = await loadWorldPlugin(module);
        if (opts.json) return printJson({ module, id, pass: true, error: null });
        process.stdout.write(`OK ${module}: ${id} keeps the world contract\n`);
      } catch (err) {
        if (opts.json) printJson({ module, id: null, pass: false, error: (err as Error).message });
        else process.stderr.write(`FAIL ${(err as Error).message}\n`);
        process.exitCode = EXIT_FAILED;
      }
    });
}

export function registerWorldsServe(worlds: Command): void {
  worlds
    .command('serve <world>')
    .description('serve a world (built-in, or a plugin module) over the remote-world protocol (docs/remote-world-protocol.md): each connection gets its own batch of as many envs as it asks for. Train or evaluate against it from anywhere with --world remote:tcp://HOST:PORT; run several servers and name them all (remote:tcp://a:7000,tcp://b:7000) to share one batch')
    .option('--listen <address>', 'tcp://host:port (port 0: any free one) or unix:/path.sock', 'tcp://127.0.0.1:7000')
    .option('--quiet', 'no line per connection')
    .addHelpText('after', '\nPrints "serving <world> on <address>" once listening; Ctrl-C stops it.\n\nExamples:\n  $ fleetmind worlds serve simple_spread --listen tcp://0.0.0.0:7000\n  $ fleetmind worlds serve examples/worlds/docking.js --listen unix:/tmp/docking.sock\n  $ fleetmind train --world remote:tcp://127.0.0.1:7000 --envs 64')
    .action(async (world: string, opts: { listen: string; quiet?: boolean }) => {
      const id = resolveWorldId(isWorldModulePath(world) ? await loadWorldPlugin(world) : world);
      const log = opts.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
      const server = await serveWorld({
        listen: opts.listen,
        makeWorld: (numEnvs, autoReset, config) => makeWorld(id, { numEnvs, autoReset, config }),
        log,
      });
      process.stdout.write(`serving ${id} on ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
