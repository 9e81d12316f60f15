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

t.test('fleetmind train refuses bad input in one line', (t) => {
  const cases: [string[], RegExp][] = [
    [['train', '--world', 'chess'], /unknown world "chess"/],
    [['train', '--world', 'spread', '--algo', 'qtran'], /Allowed choices are mappo, ippo, iql, iql-tabular, vdn, qmix, maddpg/],
    [['train', '--world', 'spread', '--algo', 'qmix', '--actor', 'commnet'], /--actor: qmix learns each agent's Q-network: actor "mlp" or "gru"; a communicating actor \("commnet"\) is trained by mappo or ippo/],
    [['train', '--world', 'spread', '--algo', 'maddpg', '--actor', 'gru'], /--actor: a setting of --algo mappo\/ippo\/iql\/vdn\/qmix, not of maddpg/],
    [['train', '--world', 'spread', '--algo', 'maddpg', '--self-play'], /--self-play: a setting of --algo mappo\/ippo, not of maddpg/],
    [['train', '--world', 'spread', '--algo', 'iql-tabular'], /needs a world with a discrete state \(grid_predator_prey\); simple_spread_v3 has none/],
    [['train', '--world', 'grid_predator_prey', '--algo', 'iql-tabular', '--steps', '100'], /--steps: a setting of --algo [a-z/]+, not of iql-tabular; iql-tabular trains for --episodes/],
    [['train', '--world', 'spread', '--episodes', '100'], /--episodes: a setting of --algo iql\/vdn\/qmix\/maddpg, not of mappo; mappo trains for --steps/],
    [['train', '--world', 'spread', '--train-every', '4'], /--train-every: a setting of --algo iql\/vdn\/qmix\/maddpg, not of mappo/],
    [['train', '--world', 'simple_tag', '--scripted-opponent', '0.2'], /--scripted-opponent: needs --self-play/],
    [['train', '--world', 'spread', '--self-play'], /self-play needs a world with two or more roles; simple_spread_v3 has one/],
    [['train', '--world', 'spread', '--shared-actor'], /--shared-actor: sharedActor shares one actor between roles; simple_spread_v3 has one role/],
    [['train', '--world', 'simple_tag', '--shared-actor'], /--shared-actor: sharedActor needs roles alike; in simple_tag_v3 role adversary has 3 agent\(s\), observations of 16, .* and role agent 1 agent\(s\), observations of 14/],
    [['train', '--world', 'spread', '--algo', 'vdn', '--shared-actor'], /--shared-actor: a setting of --algo mappo\/ippo, not of vdn/],
    [['train', '--world', 'spread', '--steps', '0'], /expected a positive integer/],
    [['train', '--world', 'spread', '--agents', '1'], /N: Too small/],
    [['train', '--world', 'spread', '--backend', 'gpu'], /Allowed choices are auto, node, wasm, cpu/],
    [['train', '--world', 'spread', '--resume', '--out', '/nonexistent/run'], /is not a run folder/],
    [['eval', '--run', '/nonexistent/run'], /is not a run folder/],
    [['eval', '--run', 'x', '--world', 'spread'], /either --run DIR, or --world W with --policy|drop --world/],
    [['train', '--world', 'spread', '--msg-dropout', '0.3'], /--msg-dropout: needs --actor commnet/],
    [['train', '--world', 'grid_predator_prey', '--algo', 'iql-tabular', '--no-agent-id'], /--no-agent-id: a setting of --algo [a-z/]+, not of iql-tabular/],
    [['train', '--world', 'spread', '--actor', 'commnet', '--msg-dropout', '1.5'], /--msg-dropout.*expected a probability in \[0, 1\], got "1.5"/],
    [['train', '--world', 'spread', '--actor', 'lstm'], /Allowed choices are mlp, commnet, tarmac, gru/],
    [['train', '--world', 'spread', '--preset', 'rmappo-mpe', '--algo', 'qmix'], /--preset rmappo-mpe: a preset for --algo mappo\/ippo, not qmix/],
    [['train', '--world', 'spread', '--preset', 'paper'], /Allowed choices are rmappo-mpe/],
    [['train', '--world', 'spread', '--set', 'chunkLength=5'], /--set chunkLength: needs --actor gru/],
    [['eval', '--world', 'spread', '--policy', 'random', '--msg-dropout', '0.3'], /apply to a trained run/],
    [['train', '--world', 'spread', '--set', 'lrr=0.001'], /--set lrr: no algorithm has this setting; mappo's are .*\blr\b.*--show-config/],
    [['train', '--world', 'spread', '--set', 'lr=-1'], /--set lr: lr: Too small/],
    [['train', '--world', 'spread', '--set', 'bufferSize=5'], /--set bufferSize: a setting of --algo iql\/vdn\/qmix\/maddpg, not of mappo/],
    [['train', '--world', 'spread', '--set', 'numEnvs=8', '--envs', '16'], /--set numEnvs and --envs both give numEnvs: keep one/],
    [['train', '--world', 'spread', '--set', 'seed=3'], /--set seed: give it with --seed/],
    [['train', '--world', 'spread', '--set', 'lr'], /expected KEY=VALUE/],
    [['train', '--world', 'spread', '--set', 'lr=1', '--set', 'lr=2'], /lr is given twice/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
  }
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

t.test('every other algorithm trains, evaluates and resumes from the CLI; self-play reports both sides', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-cli-algos-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // (iql and vdn run the same code path as qmix, through the same commands)
  for (const algo of ['qmix', 'maddpg']) {
    const out = join(dir, algo);
    let r = runCli(['train', '--world', 'simple_spread', '--algo', algo, '--steps', '2048', '--out', out]);
    t.equal(r.code, 0, `${algo}: ${r.stderr}`);
    t.match(r.stdout, /trained 2,048 env steps/);
    r = runCli(['train', '--world', 'simple_spread', '--algo', algo, '--steps', '4096', '--out', out, '--resume']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /resuming .* at 2,048 env steps/);
    r = runCli(['eval', '--run', out, '--episodes', '10', '--json']);
    t.equal(r.code, 0, r.stderr);
    t.match(JSON.parse(r.stdout).policy, new RegExp(`trained \\(${algo}, 4,096 steps\\)`));
  }
  const tabular = join(dir, 'tabular');
  let r = runCli(['train', '--world', 'grid_predator_prey', '--algo', 'iql-tabular', '--episodes', '50', '--out', tabular]);
  t.equal(r.code, 0, r.stderr);
  r = runCli(['eval', '--run', tabular, '--episodes', '10', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.ok('captured' in JSON.parse(r.stdout).outcomes);
  r = runCli(['train', '--world', 'grid_predator_prey', '--algo', 'qmix', '--out', tabular, '--resume']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--algo would change it: --algo was "iql-tabular"/);

  const tag = join(dir, 'tag');
  r = runCli(['train', '--world', 'simple_tag', '--self-play', '--steps', '8000', '--envs', '32', '--out', tag]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /self-play at [\d,]+ env steps/);
  for (const row of ['adversary vs latest return', 'adversary vs scripted catches', 'agent vs scripted return', 'scripted vs scripted catches']) t.match(r.stdout, row);
  t.end();
});
