// `fleetmind pack runtime`: what goes on a robot. The three packages an agent needs (runtime,
// models, wire), installed from their npm tarballs into one folder with only the target
// platform's ONNX Runtime binaries — onnxruntime-node ships every platform's (≈ 290 MB of a
// 340 MB install), a device needs one (linux arm64: 25 MB); what only a developer reads goes too.
// Offline when npm's cache holds the
// dependencies (as after `npm install` here); no install scripts run.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';

export const PLATFORMS = ['linux-arm64', 'linux-x64'] as const;
export type DevicePlatform = (typeof PLATFORMS)[number];

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PARTS = ['runtime/wire', 'models', 'runtime'];

export interface PackedRuntime {
  dir: string;
  platform: DevicePlatform;
  /** bytes on disk, Node itself not included */
  bytes: number;
  /** the launcher: <dir>/bin/fleetmind-agent */
  agent: string;
}

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' } });

function diskBytes(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.blocks * 512;
  return readdirSync(path).reduce((sum, name) => sum + diskBytes(join(path, name)), s.blocks * 512);
}

function pruneFiles(dir: string, drop: (name: string) => boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) pruneFiles(path, drop);
    else if (drop(entry.name)) rmSync(path);
  }
}

export function packRuntime(platform: DevicePlatform, out: string): PackedRuntime {
  const dir = resolve(out);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new CliError(`--out ${out} is not empty`);
  if (!existsSync(join(REPO, 'runtime', 'dist', 'cli', 'bin.js'))) throw new CliError('the runtime is not built: run `npm run build` first');
  const [os, cpu] = platform.split('-');
  const work = mkdtempSync(join(tmpdir(), 'fleetmind-pack-'));
  try {
    const tarballs = PARTS.map((part) => {
      const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], join(REPO, part))) as { filename: string }[];
      return join(work, packed.filename);
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
      name: 'fleetmind-device', version: '0.1.0', private: true, type: 'module',
      description: `fleetmind's edge runtime for ${platform}: run bin/fleetmind-agent`,
      // onnxruntime-node's install script would fetch CUDA files; its CPU binaries are in the package
      allowScripts: { 'onnxruntime-node': false, protobufjs: false },
    }, null, 2)}\n`);
    npm(['install', '--prefer-offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', `--os=${os}`, `--cpu=${cpu}`, ...tarballs], dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // every other platform's ONNX Runtime goes
  const ortBin = join(dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  for (const system of readdirSync(ortBin)) {
    for (const arch of readdirSync(join(ortBin, system))) if (`${system}-${arch}` !== platform) rmSync(join(ortBin, system, arch), { recursive: true });
    if (readdirSync(join(ortBin, system)).length === 0) rmSync(join(ortBin, system), { recursive: true });
  }
  if (!existsSync(join(ortBin, os, cpu))) throw new CliError(`onnxruntime-node has no ${platform} binaries`);
  // and what only a developer reads: type declarations, source maps, docs, protobufjs's code generator (20 MB)
  rmSync(join(dir, 'node_modules', 'protobufjs', 'cli'), { recursive: true, force: true });
  pruneFiles(join(dir, 'node_modules'), (name) => /\.(d\.ts|d\.mts|d\.cts|map|md|markdown)$/i.test(name));
  const agent = join(dir, 'bin', 'fleetmind-agent');
  mkdirSync(join(dir, 'bin'));
  writeFileSync(agent, '#!/bin/sh\n# fleetmind-agent on the Node.js found on PATH (≥ 20)\nexec node "$(dirname "$0")/../node_modules/@fleetmind/runtime/dist/cli/bin.js" "$@"\n');
  chmodSync(agent, 0o755);
  return { dir, platform, bytes: diskBytes(dir), agent };
}

export function registerPack(program: Command): void {
  const pack = program.command('pack').description('Package parts of fleetmind for installation elsewhere.')
    .addHelpText('after', '\nExamples:\n  $ fleetmind pack runtime --platform linux-arm64 --out dist/device-arm64');
  pack.command('runtime')
    .description('Make a folder to copy to a robot: the edge runtime (fleetmind-agent) with its dependencies and only the target platform\'s ONNX Runtime binaries.')
    .addOption(new Option('--platform <platform>', 'the device\'s OS and CPU').choices(PLATFORMS).makeOptionMandatory())
    .requiredOption('--out <dir>', 'folder to create (must be new or empty)')
    .option('--json', 'print {dir, platform, bytes, agent}')
    .addHelpText('after', `
The folder needs Node.js ≥ 20 on the device (not included). Copy it (e.g. to /opt/fleetmind) and run
bin/fleetmind-agent; bundles and keys go beside it.

Examples:
  $ fleetmind pack runtime --platform linux-arm64 --out dist/device-arm64
  $ rsync -a dist/device-arm64/ robot-1:/opt/fleetmind/ && ssh robot-1 /opt/fleetmind/bin/fleetmind-agent --version`)
    .action((opts: { platform: DevicePlatform; out: string; json?: boolean }) => {
      const packed = packRuntime(opts.platform, opts.out);
      if (opts.json) return printJson(packed);
      process.stdout.write(`packed the ${packed.platform} runtime in ${packed.dir}: ${(packed.bytes / 2 ** 20).toFixed(1)} MiB on disk (Node.js not included); run ${packed.agent}\n`);
    });
}
