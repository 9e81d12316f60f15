import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

t.test('fleetmind train writes a run folder that eval reads, and --resume continues it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-train-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  let r = runCli(['train', '--world', 'simple_spread', '--steps', '6400', '--envs', '64', '--out', out]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /trained 6,400 env steps on (wasm|node|cpu)/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.has(config, { config: { world: 'simple_spread_v3', algo: 'mappo', numEnvs: 64 } });
  t.ok(['wasm', 'node', 'cpu'].includes(config.backend), 'records the backend');
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, 4);
  t.ok('train/agent_return_mean' in lines[0] && 'losses/approx_kl' in lines[0] && 'train/env_steps_per_s' in lines[0]);

  r = runCli(['train', '--steps', '12800', '--out', out, '--resume', '--envs', '128', '--seed', '1']);
  t.equal(r.code, 2, 'a flag that would change the run is refused');
  t.match(r.stderr, /--resume continues .* as it was made \(config\.json\); --envs would change it: --envs was 64\. Only --steps or --episodes/);
  t.equal(runCli(['train', '--resume', '--world', 'spread']).code, 2, '--resume names its run folder');
  r = runCli(['train', '--steps', '12800', '--out', out, '--resume', '--envs', '64']);
  t.equal(r.code, 0, `no --world needed, and a flag that agrees with the run is fine: ${r.stderr}`);
  t.match(r.stderr, /resuming .* at 6,400 env steps/);
  const after = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(after.length, 8, 'metrics appended');
  t.equal(after[7]['global/env_steps'], 12800);
  t.ok(after[4]['time/wall_s'] > after[3]['time/wall_s'], 'the resumed clock continues');

  const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
  t.match(svg, /^<svg/);
  t.match(svg, /mean per-agent return/);
  t.match(svg, /wall clock \(minutes\)/);
  t.match(svg, /reference \(same world\)/, 'random and scripted reference lines, with their legend');
  t.match(svg, />scripted</);
  t.match(svg, />random</);
  t.match(svg, />resumed</, 'the resumed segment is marked');
  t.match(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).resumes, [{ env_steps: 6400, at: String }], 'config.json records the resume');
  const png = readFileSync(join(out, 'curves.png'));
  t.same([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  t.ok(png.length > 5000, 'with content');

  r = runCli(['eval', '--run', out, '--episodes', '20', '--json']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.match(report.policy, /trained \(mappo, 12,800 steps\)/);
  t.equal(report.episode_team_returns.length, 20);

  // --world-option replaces the run's options (trained on one setting, evaluated on another)
  r = runCli(['eval', '--run', out, '--episodes', '20', '--world-option', 'maxCycles=10', '--json']);
  t.equal(r.code, 0, r.stderr);
  const shorter = JSON.parse(r.stdout);
  t.match(shorter.policy, /trained on default/);
  t.equal(shorter.episode_team_returns.length, 20);
  t.ok(shorter.team_return_mean > report.team_return_mean, `10-step episodes lose less than 25-step ones (${shorter.team_return_mean} vs ${report.team_return_mean})`);
  r = runCli(['eval', '--run', out, '--world-option', 'N=4']);
  t.equal(r.code, 2, 'options that change what the policy sees are refused');
  t.match(r.stderr, /--run .* --world-option N=4: the policy cannot play simple_spread_v3 with these options: .*inputs/);
  t.notMatch(r.stderr, /\n\s+at /);

  writeFileSync(join(out, 'checkpoint.json'), '{"config":');
  r = runCli(['eval', '--run', out]);
  t.equal(r.code, 2);
  t.match(r.stderr, /checkpoint\.json is corrupt/);
  t.notMatch(r.stderr, /\n\s+at /);
  t.end();
});

t.test('a size-agnostic run (k nearest, no agent index) trains to its end: its curves say why they have no scripted reference', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-train-k-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = runCli(['train', '--world', 'simple_spread', '--agents', '5', '--neighbours', '2', '--no-agent-id', '--steps', '3200', '--envs', '32', '--out', join(dir, 'run')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /trained 3,200 env steps/);
  t.match(r.stderr, /the curves have no scripted reference: the scripted simple_spread controller reads every landmark and agent/);
  t.end();
});

t.test('--set gives any setting by its config.json name: --show-config prints the result, the run records it, and --resume keeps it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-train-set-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let r = runCli(['train', '--world', 'simple_spread', '--continuous', '--set', 'lr=0.0007', '--set', 'hidden=[32,16]', '--set', 'epochs=3', '--show-config']);
  t.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout);
  t.has(shown, { algo: 'mappo', lr: 0.0007, hidden: [32, 16], epochs: 3, worldConfig: { continuousActions: true } });
  t.equal(shown.criticLr, 2e-3, 'the settings not given keep their defaults');
  t.equal(shown.actionDistribution, 'beta', 'a continuous run is a Beta policy unless told otherwise');
  const squashed = runCli(['train', '--world', 'simple_spread', '--continuous', '--set', 'squashActions=true', '--show-config']);
  t.equal(squashed.code, 2);
  t.match(squashed.stderr, /--set squashActions: needs the Gaussian with a learned constant std \(--set actionDistribution=gaussian; the default is beta\)/, 'a Gaussian-only setting alone is refused, saying how to ask for the Gaussian');
  const out = join(dir, 'run');
  r = runCli(['train', '--world', 'simple_spread', '--steps', '3200', '--envs', '32', '--set', 'hidden=[32,16]', '--set', 'epochs=3', '--out', out]);
  t.equal(r.code, 0, r.stderr);
  t.has(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')), { config: { hidden: [32, 16], epochs: 3 } });
  r = runCli(['train', '--out', out, '--resume', '--steps', '6400', '--set', 'epochs=4']);
  t.equal(r.code, 2, 'a resumed run keeps its settings');
  t.match(r.stderr, /--set would change it: epochs was 3/);
  r = runCli(['train', '--out', out, '--resume', '--steps', '6400', '--set', 'epochs=3']);
  t.equal(r.code, 0, `a --set that agrees with the run is fine: ${r.stderr}`);
  t.match(r.stdout, /trained 6,400 env steps/);
  t.end();
});

t.test('--preset lays a published configuration under the flags: --show-config prints it, and a flag or --set beside it wins', (t) => {
  const show = (extra: string[]) => {
    const r = runCli(['train', '--world', 'simple_spread', '--preset', 'rmappo-mpe', '--show-config', ...extra]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  t.match(show([]), { algo: 'mappo', actor: 'gru', epochs: 10, minibatches: 1, lr: 7e-4, criticLr: 7e-4, lrDecay: false, activation: 'relu', agentId: false, criticTimeFeature: true, valueClip: 0.2 });
  t.match(show(['--algo', 'ippo']), { algo: 'ippo', actor: 'gru', epochs: 10 });
  t.match(show(['--set', 'epochs=5', '--set', 'chunkLength=25']), { actor: 'gru', epochs: 5, chunkLength: 25, lr: 7e-4 });
  t.match(show(['--actor', 'mlp']), { actor: 'mlp', epochs: 10, lr: 7e-4 }, 'the paper\'s feed-forward MAPPO');
  t.end();
});

t.test('a CommNet run trains from the CLI, records its profile, and eval measures it under message loss', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-commnet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  let r = runCli(['train', '--world', 'simple_spread', '--actor', 'commnet', '--msg-dropout', '0.3', '--comm-rounds', '1', '--steps', '3200', '--envs', '32', '--out', out]);
  t.equal(r.code, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.has(config, { config: { actor: 'commnet', msgDropout: 0.3, commRounds: 1 } });
  const line = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]);
  for (const part of ['act', 'critic', 'world', 'update']) t.ok(line[`time/${part}_s`] >= 0, `profiles ${part}`);
  const nominal = JSON.parse(runCli(['eval', '--run', out, '--episodes', '30', '--json']).stdout);
  r = runCli(['eval', '--run', out, '--episodes', '30', '--msg-dropout', '1', '--json']);
  t.equal(r.code, 0, r.stderr);
  const deaf = JSON.parse(r.stdout);
  t.match(deaf.policy, /100% messages lost/);
  t.notSame(deaf.episode_team_returns, nominal.episode_team_returns, 'losing every message changes what the agents do');
  t.end();
});
