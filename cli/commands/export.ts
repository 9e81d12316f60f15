import { Option, type Command } from 'commander';
import type { Quantization } from '@fleetmind/wire';
import { CliError, EXIT_FAILED } from '../errors.js';
import { positiveInt } from '../options.js';

interface ExportCliOptions {
  run: string;
  out: string;
  quantize: Quantization;
  name?: string;
  bundleVersion: string;
  episodes: number;
  trainCommand?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('turn a training run into a policy bundle: ONNX graphs per role (CommNet: one per communication stage, plus a no-message fallback) and manifest.json pinning every file\'s sha256. Fails if ONNX Runtime and TensorFlow.js disagree by more than 1e-5 on 1,000+ sampled observations and masks')
    .requiredOption('--run <dir>', 'training run folder (from `fleetmind train`)')
    .requiredOption('--out <dir>', 'bundle folder to create (must be new or empty)')
    .addOption(new Option('--quantize <q>', 'message encoding on the wire: f32, f16, or int8 with a per-message scale').choices(['f32', 'f16', 'int8']).default('f32'))
    .option('--name <name>', 'bundle name (default: <world>-<algo>-<actor>)')
    .option('--bundle-version <x.y.z>', 'bundle version', '1.0.0')
    .option('--episodes <n>', 'episodes of the export-time evaluation recorded in the manifest', positiveInt, 200)
    .option('--train-command <cmd>', 'the command that trained the run, recorded for reproducibility')
    .addHelpText('after', '\nExamples:\n  $ fleetmind export --run runs/commnet --out bundles/spread-commnet --quantize int8\n  $ fleetmind bundle verify bundles/spread-commnet')
    .action(async (opts: ExportCliOptions) => {
      const { exportRun, ParityError, useBackend } = await import('@fleetmind/trainer');
      await useBackend('auto');
      try {
        const manifest = await exportRun({
          run: opts.run, out: opts.out, quantization: opts.quantize, name: opts.name, version: opts.bundleVersion,
          episodes: opts.episodes, trainCommand: opts.trainCommand ?? null,
          onProgress: (line) => process.stderr.write(`${line}…\n`),
        });
        const e = manifest.evaluation;
        process.stdout.write(`exported ${manifest.name} ${manifest.version} to ${opts.out}: ${Object.keys(manifest.files).length} graphs, parity max |Δ${manifest.roles[0].action.kind === 'continuous' ? 'action' : 'logit'}| ${manifest.parity.max_abs_error.toExponential(2)} over ${manifest.parity.samples} samples, ${manifest.parity.action_mismatches} action mismatches\n`);
        process.stdout.write(`agent return ${e.nominal.agent_return_mean.toFixed(3)} (${e.nominal.episodes} episodes)`);
        if (e.quantized) process.stdout.write(`, ${e.quantized.quantization} messages ${e.quantized.agent_return_mean.toFixed(3)}`);
        if (e.msg_dropout_30) process.stdout.write(`, 30% messages lost ${e.msg_dropout_30.agent_return_mean.toFixed(3)}`);
        process.stdout.write('\n');
      } catch (err) {
        if (err instanceof ParityError) throw new CliError(err.message, EXIT_FAILED);
        throw err;
      }
    });
}
