import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  JUNCTION_VECTORS_FORMAT, openWorld, parallelApiCheck, parseConformanceVectors, parseJunctionVectors, replayConformanceVectors, replayJunctionVectors, resolveWorldId,
  type ConformanceReport, type JunctionConformanceReport, type World,
} from '@fleetmind/worlds';
import { CliError, EXIT_FAILED } from '../errors.js';
import { printJson, printTable } from '../output.js';

function readVectorsJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `vectors file not found: ${file}` : `cannot read vectors file ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`vectors file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A file of MPE reference trajectories (mpe-reference-trajectories/1), parsed. */
export function loadVectors(file: string) {
  try {
    return parseConformanceVectors(readVectorsJson(file));
  } catch (err) {
    throw err instanceof CliError ? err : new CliError(`${file}: ${(err as Error).message}`);
  }
}

/** IC3Net's trajectories: every quantity must match exactly; prints the count of mismatches of each. */
function checkJunctionVectors(file: string, data: unknown, json: boolean | undefined): void {
  let report: JunctionConformanceReport;
  try {
    report = replayJunctionVectors(parseJunctionVectors(data));
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
  const f = report.first_mismatch;
  const failure = f ? `first mismatch: episode ${f.episode} (env seed ${f.env_seed}), step ${f.step}, ${f.quantity}${f.index >= 0 ? ` [${f.index}]` : ''}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}` : '';
  if (json) {
    printJson({ file, ...report });
  } else {
    process.stdout.write(`${file}: ${report.world} (${report.difficulty}), ${report.episodes} episodes, ${report.steps} steps, replayed with IC3Net's recorded draws\n`);
    printTable(['quantity', 'mismatches', ''], Object.entries(report.mismatches).map(([q, m]) => [q, String(m), m === 0 ? 'exact' : 'FAIL']));
    process.stdout.write(`${report.pass ? 'PASS' : `FAIL: ${failure}`}\n`);
  }
  if (!report.pass) {
    if (json) process.stderr.write(`fleetmind: env check failed: ${failure}\n`);
    process.exitCode = EXIT_FAILED;
  }
}

function describeFailure(r: ConformanceReport): string {
  const f = r.first_failure;
  if (!f) return '';
  return `first mismatch: episode ${f.episode} (seed ${f.seed}), step ${f.step}, agent ${f.agent}, ${f.quantity}[${f.index}]: ` +
    `expected ${f.expected}, got ${f.actual} (|err| ${f.abs_err.toExponential(3)} > tolerance ${f.tolerance})`;
}

export function registerEnvCheck(program: Command): void {
  const env = program
    .command('env')
    .description('check worlds against reference data')
    .addHelpText('after', '\nExamples:\n  $ fleetmind env check --vectors test/fixtures/mpe/simple_spread_v3.json');
  env
    .command('check')
    .description('replay every episode of a reference-trajectory file (PettingZoo MPE: mpe-reference-trajectories/1; IC3Net traffic junction: ic3net-traffic-junction-trajectories/1) and report the largest error (or the mismatches) per quantity; or, with --world alone, put a world (a plugin too) through the world contract; exit 0 only if it passes')
    .option('--vectors <file>', 'reference trajectories JSON (e.g. test/fixtures/mpe/simple_spread_v3.json)')
    .option('--world <id|module|address>', 'without --vectors: check this world against the contract (parallelApiCheck), e.g. a plugin ./my-world.js, or a simulator over the wire: remote:tcp://host:port')
    .option('--json', 'print one JSON object: {file, world, episodes, steps, max_abs_err, pass, ...}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind env check --vectors test/fixtures/mpe/simple_tag_v3.json --json\n  $ fleetmind env check --vectors test/fixtures/traffic_junction/medium.json\n  $ fleetmind env check --world examples/worlds/docking.js\n  $ fleetmind env check --world remote:tcp://127.0.0.1:7000')
    .action((opts: { vectors?: string; world?: string; json?: boolean }) => {
      if (!opts.vectors) {
        if (!opts.world) throw new CliError('env check needs --vectors FILE (reference trajectories) or --world W (the contract check)');
        const id = resolveWorldId(opts.world);
        // a remote world is checked over the wire: its simulator keeps the contract, or says where not
        const opened: World[] = [];
        try {
          parallelApiCheck(() => { const w = openWorld(id, { numEnvs: 2 }); opened.push(w); return w; });
        } finally {
          for (const w of opened) w.close();
        }
        if (opts.json) printJson({ world: id, pass: true });
        else process.stdout.write(`PASS ${id}: keeps the world contract (spaces, shapes, determinism, episodes, snapshots, refused bad actions)\n`);
        return;
      }
      const data = readVectorsJson(opts.vectors);
      if ((data as { format?: unknown } | null)?.format === JUNCTION_VECTORS_FORMAT) return checkJunctionVectors(opts.vectors, data, opts.json);
      const vectors = loadVectors(opts.vectors);
      let report: ConformanceReport;
      try {
        report = replayConformanceVectors(vectors);
      } catch (err) {
        throw new CliError(`${opts.vectors}: ${(err as Error).message}`);
      }
      if (opts.json) {
        printJson({ file: opts.vectors, ...report });
      } else {
        process.stdout.write(`${opts.vectors}: ${report.world}, ${report.episodes} episodes, ${report.steps} steps\n`);
        printTable(
          ['quantity', 'max |err|', 'tolerance', ''],
          Object.entries(report.max_abs_err).map(([q, err]) => {
            const tol = report.tolerance[q as keyof typeof report.tolerance];
            return [q, err === 0 ? '0' : err.toExponential(3), tol === 0 ? 'exact' : tol, err <= tol ? 'ok' : 'FAIL'];
          }),
        );
        const mism = Object.entries(report.discrete_mismatches).map(([k, v]) => `${k} ${v}`).join(', ');
        process.stdout.write(`discrete mismatches: ${mism}\n${report.pass ? 'PASS' : `FAIL: ${describeFailure(report)}`}\n`);
      }
      if (!report.pass) {
        if (opts.json) process.stderr.write(`fleetmind: env check failed: ${describeFailure(report)}\n`);
        process.exitCode = EXIT_FAILED;
      }
    });
}
