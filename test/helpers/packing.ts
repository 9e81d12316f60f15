// Packing fleetmind parts as npm would publish them and installing them in an empty folder,
// as a device or a gateway would: what ends up installed is what a user gets.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error', ONNXRUNTIME_NODE_INSTALL: 'skip' } }); // as the README's device install says

export interface PackedInstall {
  /** the folder whose node_modules holds the install */
  app: string;
  /** files of each packed part, by its folder */
  files: Record<string, string[]>;
  /** every installed package name (scoped ones as @scope/name) */
  installed: string[];
  /** bytes on disk under node_modules */
  bytes: number;
  remove(): void;
}

/** Packs each part folder (relative to the repo) and installs the tarballs together, offline. */
export function packAndInstall(partDirs: string[]): PackedInstall {
  const dir = mkdtempSync(join(tmpdir(), 'fm-pack-'));
  const files: Record<string, string[]> = {};
  const tarballs = partDirs.map((part) => {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], join(REPO_ROOT, part)));
    files[part] = packed.files.map((f: { path: string }) => f.path);
    return join(dir, packed.filename);
  });
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], app);
  const modules = join(app, 'node_modules');
  const installed = readdirSync(modules, { withFileTypes: true }).flatMap((d) =>
    d.name.startsWith('@') ? readdirSync(join(modules, d.name)).map((s) => `${d.name}/${s}`) : [d.name],
  );
  return { app, files, installed, bytes: diskBytes(modules), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function diskBytes(path: string): number {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + diskBytes(join(path, name)), 0);
}
