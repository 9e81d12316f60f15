// `fleetmind train` (and `eval`) refuse bad input in one line, exit 2, before any training starts.
// Apart from train.test.ts so that the two run side by side.

import t from 'tap';
import { runCli } from '../helpers/cli.js';

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
    [['train', '--world', 'spread', '--algo', 'qmix', '--workers', '2'], /--workers: only mappo and ippo compute their updates on several threads, not qmix/],
    [['train', '--world', 'spread', '--workers', '0'], /expected a positive integer/],
    [['train', '--world', 'spread', '--set', 'gradientShards=0'], /--set gradientShards: gradientShards: Too small/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
  }
  t.end();
});

t.test('--workers K splits each minibatch\'s gradient in K parts unless the run says how many; more threads than parts are said', (t) => {
  const config = (args: string[]) => { const r = runCli(['train', '--world', 'spread', '--show-config', ...args]); t.equal(r.code, 0, r.stderr); return { ...JSON.parse(r.stdout), stderr: r.stderr }; };
  t.equal(config(['--workers', '2']).gradientShards, 2, '--workers 2: two parts');
  t.equal(config([]).gradientShards, undefined, 'no --workers: one part (the setting absent, as in every run before it)');
  t.equal(config(['--workers', '2', '--set', 'gradientShards=4']).gradientShards, 4, 'the parts given win');
  t.match(config(['--workers', '3', '--set', 'gradientShards=2']).stderr, /--workers 3: this run's gradient has 2 parts \(gradientShards\), so 2 threads compute it/);
  t.end();
});
