// Plugin worlds at the command line's edge: before a command runs, the world modules it names
// are loaded (checked and registered), so the trainer, evaluator, exporter and simulator find
// them by id as they find the built-in worlds. A command names one by
//   --world ./my-world.js            the module itself (the option then holds the world's id)
//   --run DIR, or --out DIR --resume a run trained on one: its config.json records the module
//   --bundle DIR                     a bundle exported from one: its manifest records the module

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isWorldModulePath, loadWorldPlugin } from '@fleetmind/worlds';
import { CliError } from './errors.js';

/** The module a run folder's or bundle's JSON records, if it is there to read. */
function recordedModule(file: string, pick: (data: any) => unknown): string | null {
  if (!existsSync(file)) return null;
  try {
    const module = pick(JSON.parse(readFileSync(file, 'utf8')));
    return typeof module === 'string' ? module : null;
  } catch {
    return null; // the command itself says what is wrong with the file
  }
}

async function load(module: string, from: string): Promise<string> {
  if (!existsSync(module)) throw new CliError(`${from} was made with the world plugin ${module}, which is not there now: pass --world with the plugin's new path`);
  return loadWorldPlugin(module);
}

export async function loadWorldPluginsFor(command: Command): Promise<void> {
  const opts = command.opts<{ world?: unknown; run?: unknown; out?: unknown; resume?: unknown; bundle?: unknown }>();
  if (typeof opts.world === 'string' && isWorldModulePath(opts.world)) {
    command.setOptionValue('world', await loadWorldPlugin(opts.world));
    return; // the module given wins over what a run or bundle recorded
  }
  // eval takes --run once per seed
  const runDirs = typeof opts.run === 'string' ? [opts.run] : Array.isArray(opts.run) ? opts.run.filter((d): d is string => typeof d === 'string')
    : typeof opts.out === 'string' && opts.resume ? [opts.out] : [];
  for (const runDir of runDirs) {
    const module = recordedModule(join(runDir, 'config.json'), (d) => d?.config?.worldModule);
    if (module) await load(module, runDir);
  }
  // sim takes --bundle once per seed
  const bundleDirs = typeof opts.bundle === 'string' ? [opts.bundle] : Array.isArray(opts.bundle) ? opts.bundle.filter((d): d is string => typeof d === 'string') : [];
  for (const bundleDir of bundleDirs) {
    const module = recordedModule(join(bundleDir, 'manifest.json'), (d) => d?.world?.module);
    if (module) await load(module, bundleDir);
  }
}
