import type { Command } from 'commander';
import { makeWorld, worldIds } from '@fleetmind/worlds';
import { printJson } from '../output.js';

export function describeWorlds() {
  return worldIds().map(({ id, aliases, summary }) => {
    const world = makeWorld(id);
    return {
      id,
      aliases,
      summary,
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
  });
}

export function registerWorlds(program: Command): void {
  program
    .command('worlds')
    .description('list the worlds with their agents, roles, observation and action spaces (default options)')
    .option('--json', 'print one JSON array')
    .addHelpText('after', '\nExamples:\n  $ fleetmind worlds\n  $ fleetmind worlds --json')
    .action((opts: { json?: boolean }) => {
      const worlds = describeWorlds();
      if (opts.json) return printJson(worlds);
      for (const w of worlds) {
        process.stdout.write(`${w.id}  (alias: ${w.aliases.join(', ')})\n  ${w.summary}\n`);
        const byRole = new Map<string, string[]>();
        for (const a of w.agents) {
          const action = a.action_space.kind === 'discrete' ? `Discrete(${a.action_space.n})` : `Box(${a.action_space.low[0]}, ${a.action_space.high[0]}, (${a.action_space.shape[0]},)) float32`;
          const key = `${a.role}: obs Box(${a.observation_space.shape[0]},) float32, action ${action}`;
          byRole.set(key, [...(byRole.get(key) ?? []), a.name]);
        }
        for (const [spaces, names] of byRole) process.stdout.write(`  ${names.join(', ')}\n    ${spaces}\n`);
        process.stdout.write(`  state ${w.state_size}, ${w.max_cycles} steps per episode, infos: ${w.infos.join(', ')}\n\n`);
      }
    });
}
