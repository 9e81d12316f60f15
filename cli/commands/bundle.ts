import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Manifest } from '@fleetmind/models';
import { CliError } from '../errors.js';
import { positiveInt } from '../options.js';
import { printJson, printTable } from '../output.js';

function readKeyFile(path: string, flag: string): string {
  if (!existsSync(path)) throw new CliError(`${flag}: ${path} does not exist`);
  return readFileSync(path, 'utf8');
}

function graphFiles(manifest: Manifest): string[] {
  return manifest.roles.flatMap((r) => (r.graphs.kind === 'commnet' ? [...r.graphs.stages, r.graphs.final, r.graphs.fallback] : [r.graphs.actor]));
}

export function registerBundle(program: Command): void {
  const bundle = program
    .command('bundle')
    .description('check, inspect and sign policy bundles (the folders `fleetmind export` writes)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bundle verify models/zoo/spread-commnet\n  $ fleetmind bundle keygen --out operator\n  $ fleetmind bundle sign my-bundle --key operator.key');

  bundle
    .command('verify <dir>')
    .description('check the manifest against its schema, every file\'s sha256 and size, the signature, and that every graph loads in ONNX Runtime with the inputs and outputs the manifest implies; exits non-zero on the first problem')
    .option('--trust-key <pem>', 'public key file: require a valid signature by exactly this key')
    .option('--json', 'print {ok, name, version, signature, graphs, files}')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bundle verify models/zoo/spread-mlp\n  $ fleetmind bundle verify my-bundle --trust-key operator.pub --json')
    .action(async (dir: string, opts: { trustKey?: string; json?: boolean }) => {
      const trustedKeyPem = opts.trustKey ? readKeyFile(opts.trustKey, '--trust-key') : undefined;
      const { loadBundle } = await import('@fleetmind/models');
      const loaded = await loadBundle(dir, { trustedKeyPem, trustedKeyWhere: opts.trustKey });
      await loaded.close();
      const { manifest } = loaded;
      const graphs = graphFiles(manifest);
      if (opts.json) {
        printJson({ ok: true, name: manifest.name, version: manifest.version, signature: loaded.signature, graphs, files: Object.keys(manifest.files).length });
        return;
      }
      process.stdout.write(`OK ${dir}: ${manifest.name} ${manifest.version}, schema ${manifest.schema_version}, ${Object.keys(manifest.files).length} files match their sha256, ${new Set(graphs).size} graphs load with the expected inputs and outputs, signature: ${loaded.signature}\n`);
    });

  const roleFile = (value: string, previous: { role: string | null; file: string }[] = []) => {
    const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(value);
    return [...previous, m && !existsSync(value) ? { role: m[1], file: m[2] } : { role: null, file: value }];
  };
  bundle
    .command('import')
    .description('make a bundle of actors trained elsewhere (PyTorch\'s torch.onnx.export, or any ONNX exporter): an MLP from the observation [batch, obs] to a value per action [batch, actions] (logits or Q-values), one per role of the world; checked against the world\'s spaces, adapted to the bundle\'s graph contract, checked for parity (against --samples, the exporter\'s own outputs, else against the graph as it came) and evaluated')
    .requiredOption('--actor <[role=]file>', 'an ONNX actor; in a world of several roles, one per role as ROLE=FILE (repeat)', roleFile)
    .requiredOption('--world <id>', 'the world it acts in (see `fleetmind worlds`)')
    .requiredOption('--out <dir>', 'the bundle folder to create (new or empty)')
    .option('--agents <n>', 'number of agents, for worlds that take one (simple_spread: N)', positiveInt)
    .option('--continuous', 'the world\'s continuous actions (the MPE worlds\' Box(0, 1, (5,))): the actor maps the observation to the action vector [batch, D] itself')
    .option('--samples <[role=]file>', 'JSON {"observations": [[…]…], "outputs": [[…]…]}: the exporter\'s outputs for those observations, to check parity against (repeat per role)', roleFile)
    .option('--name <name>', 'bundle name (default: <world>-imported)')
    .option('--bundle-version <x.y.z>', 'bundle version', '1.0.0')
    .option('--episodes <n>', 'episodes of the import-time evaluation recorded in the manifest', positiveInt, 200)
    .option('--json', 'print the manifest')
    .addHelpText('after', `
The bundle acts without communication (an MLP is its own fallback); it runs with \`eval --bundle\`,
the runtime and \`fleetmind sim\` like an exported one. Export from PyTorch with a dynamic batch:
  torch.onnx.export(actor, torch.zeros(1, obs), "actor.onnx", input_names=["obs"], output_names=["logits"],
                    dynamic_axes={"obs": {0: "batch"}, "logits": {0: "batch"}})

Examples:
  $ fleetmind bundle import --actor test/fixtures/torch/spread_actor.onnx --world simple_spread --samples test/fixtures/torch/spread_samples.json --out bundles/torch-spread
  $ fleetmind bundle import --actor test/fixtures/torch/spread_continuous_actor.onnx --world simple_spread --continuous --out bundles/torch-spread-continuous
  $ fleetmind bundle import --actor adversary=adv.onnx --actor agent=prey.onnx --world simple_tag --out bundles/tag-imported`)
    .action(async (opts: { actor: { role: string | null; file: string }[]; world: string; out: string; agents?: number; continuous?: boolean; samples?: { role: string | null; file: string }[]; name?: string; bundleVersion: string; episodes: number; json?: boolean }) => {
      const { importActors } = await import('@fleetmind/trainer/import-actor');
      const manifest = await importActors({
        world: opts.world, worldConfig: { ...(opts.agents === undefined ? {} : { N: opts.agents }), ...(opts.continuous ? { continuousActions: true } : {}) }, actors: opts.actor, samples: opts.samples,
        out: opts.out, name: opts.name, version: opts.bundleVersion, episodes: opts.episodes,
        command: `fleetmind ${process.argv.slice(2).join(' ')}`,
      });
      if (opts.json) return printJson(manifest);
      const p = manifest.parity;
      process.stdout.write(`imported ${manifest.name} ${manifest.version} to ${opts.out}: ${manifest.roles.map((r) => `${r.name} (${r.agents.length} agents, obs ${r.observation.size}, ${r.action.kind === 'discrete' ? `${r.action.n} actions` : `continuous actions of ${r.action.size}`})`).join(', ')}\n`);
      process.stdout.write(`parity against ${opts.samples ? 'the samples' : 'the graph as it came'}: max |Δ| ${p.max_abs_error.toExponential(2)} over ${p.samples} observations, ${p.action_mismatches} action mismatches\n`);
      process.stdout.write(`agent return ${manifest.evaluation.nominal.agent_return_mean.toFixed(3)} (${manifest.evaluation.nominal.episodes} episodes)\n`);
    });

  bundle
    .command('inspect <dir>')
    .description('print a human summary of a bundle: world, roles and agents, communication, evaluation, parity, provenance')
    .option('--json', 'print the manifest')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bundle inspect models/zoo/spread-commnet')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const { checkBundleFiles } = await import('@fleetmind/models');
      const { manifest: m, signature } = checkBundleFiles(dir);
      if (opts.json) return printJson(m);
      process.stdout.write(`${m.name} ${m.version} — ${m.world.id}, ${m.provenance.algorithm} with ${m.provenance.actor} actors, ${m.provenance.env_steps.toLocaleString('en-US')} env steps (seed ${m.provenance.seed}); signature: ${signature}\n\n`);
      printTable(['role', 'agents', 'observation', 'actions', 'safe action', 'graphs'], m.roles.map((r) => [
        r.name, r.agents.join(' '), `${r.observation.size} values (layout below)`, r.action.kind === 'discrete' ? r.action.names.join('/') : `box of ${r.action.size} (${r.action.names.join(', ')}) in [${r.action.low.join(', ')}]–[${r.action.high.join(', ')}]`,
        typeof r.safe_action === 'number' ? r.action.names[r.safe_action] : `[${r.safe_action.join(', ')}]`,
        r.graphs.kind === 'mlp' ? r.graphs.actor
          : r.graphs.kind === 'recurrent' ? `${r.graphs.actor} (keeps a state of ${r.graphs.state.size})`
            : `${r.graphs.stages.length} stages + final + fallback${r.graphs.state ? ` (keeps a state of ${r.graphs.state.size})` : ''}${r.graphs.gate ? ' (stage 0 chooses whether to speak)' : ''}`,
      ]));
      // the whole layout: a vendor writes its observations from it
      for (const r of m.roles) {
        process.stdout.write(`\nobservation of ${r.name} (${r.observation.size} float32 values, in this order${r.observation.low ? '; outside the bounds → the safe action' : ''}):\n`);
        printTable(r.observation.low ? ['index', 'field', 'low', 'high'] : ['index', 'field'], r.observation.fields.map((f, k) => (r.observation.low
          ? [k, f, r.observation.low[k].toPrecision(4), r.observation.high![k].toPrecision(4)] : [k, f])));
      }
      if (m.communication) {
        const c = m.communication;
        process.stdout.write(`\ncommunication: ${c.rounds} round(s), message ${c.message_size} values as ${c.quantization}, inbox ${c.inbox_capacity}; trained with ${c.trained.msg_dropout * 100}% message dropout, ${c.trained.agent_dropout * 100}% silent agents, radius ${c.trained.comm_radius ?? 'none'}\n`);
      }
      const e = m.evaluation;
      process.stdout.write(`\nevaluation (${e.nominal.episodes} episodes, seed ${e.nominal.seed}): agent return ${e.nominal.agent_return_mean.toFixed(3)}, team ${e.nominal.team_return_mean.toFixed(3)}`);
      if (e.quantized) process.stdout.write(`; ${e.quantized.quantization} messages ${e.quantized.agent_return_mean.toFixed(3)}`);
      if (e.msg_dropout_30) process.stdout.write(`; 30% messages lost ${e.msg_dropout_30.agent_return_mean.toFixed(3)}`);
      process.stdout.write(`\nparity: max |Δ${m.roles[0].action.kind === 'continuous' ? 'action' : 'logit'}| ${m.parity.max_abs_error.toExponential(2)} over ${m.parity.samples} samples, ${m.parity.action_mismatches} action mismatches\n`);
      process.stdout.write(`provenance: ${m.provenance.train_command ?? '(train command not recorded)'}; commit ${m.provenance.source_commit ?? 'unknown'}; exported ${m.provenance.exported_at}\n`);
    });

  bundle
    .command('keygen')
    .description('create an Ed25519 key pair for signing bundles: <out>.key (private, mode 600) and <out>.pub')
    .requiredOption('--out <prefix>', 'path prefix of the two key files')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bundle keygen --out operator')
    .action(async (opts: { out: string }) => {
      const [{ generateSigningKeys }, { writeSecretFile }] = await Promise.all([import('@fleetmind/models'), import('@fleetmind/broker')]);
      for (const f of [`${opts.out}.key`, `${opts.out}.pub`]) if (existsSync(f)) throw new CliError(`${f} already exists: refusing to overwrite a key`);
      const keys = generateSigningKeys();
      writeSecretFile(`${opts.out}.key`, keys.privateKeyPem);
      writeFileSync(`${opts.out}.pub`, keys.publicKeyPem);
      process.stdout.write(`wrote ${opts.out}.key (private: it signs; keep it with the operator) and ${opts.out}.pub (public: give it to the robots as --trust-key)\n`);
      process.stderr.write(`fleetmind: warning: ${opts.out}.key never goes to a robot; a robot that holds it could sign bundles for the whole fleet\n`);
    });

  bundle
    .command('sign <dir>')
    .description('sign a bundle\'s manifest (which pins every file) with an Ed25519 private key; writes signature.json')
    .requiredOption('--key <pem>', 'private key file (from `fleetmind bundle keygen`)')
    .addHelpText('after', '\nExamples:\n  $ fleetmind bundle sign my-bundle --key operator.key')
    .action(async (dir: string, opts: { key: string }) => {
      const { checkBundleFiles, signBundle } = await import('@fleetmind/models');
      checkBundleFiles(dir); // never sign a damaged bundle
      signBundle(dir, readKeyFile(opts.key, '--key'), opts.key);
      process.stdout.write(`signed ${dir}\n`);
    });
}
