import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.test('fleetmind eval reports baselines with the documented JSON, reproducibly', (t) => {
  const args = ['eval', '--world', 'simple_spread', '--policy', 'scripted', '--episodes', '50', '--seed', '4', '--json'];
  const a = runCli(args);
  t.equal(a.code, 0, a.stderr);
  const report = JSON.parse(a.stdout);
  for (const key of ['episodes', 'seed', 'agent_return_mean', 'agent_return_std', 'team_return_mean', 'episode_team_returns', 'outcomes']) t.ok(key in report, key);
  t.equal(report.episodes, 50);
  t.equal(report.episode_team_returns.length, 50);
  const mean = report.episode_team_returns.reduce((s: number, x: number) => s + x, 0) / 50;
  t.ok(Math.abs(mean - report.team_return_mean) < 1e-9, 'team return mean is the mean of the episodes');
  t.ok(Math.abs(report.team_return_mean - 3 * report.agent_return_mean) < 1e-9, 'team return sums the 3 agents');
  t.same(JSON.parse(runCli(args).stdout), report, 'same seed, same figures');

  const random = JSON.parse(runCli(['eval', '--world', 'simple_spread', '--policy', 'random', '--episodes', '50', '--seed', '4', '--json']).stdout);
  t.ok(report.agent_return_mean > random.agent_return_mean + 10, `scripted ${report.agent_return_mean} vs random ${random.agent_return_mean}`);
  t.end();
});

t.test('fleetmind eval rejects unknown worlds, policies and bad numbers in one line', (t) => {
  const cases: [string[], RegExp][] = [
    [['eval', '--world', 'chess', '--policy', 'random'], /unknown world "chess"/],
    [['eval', '--world', 'spread', '--policy', 'clever'], /argument 'clever' is invalid. expected random, scripted or always:K/],
    [['eval', '--world', 'spread', '--policy', 'random', '--episodes', '-3'], /expected a positive integer/],
    [['eval', '--world', 'spread', '--policy', 'random', '--seed', '1.5'], /option '--seed <s>' argument '1.5' is invalid. expected a non-negative integer/],
    [['sim', '--bundle', 'models/zoo/spread-mlp', '--seed', '-1'], /option '--seed <s>' argument '-1' is invalid. expected a non-negative integer/],
    [['train', '--world', 'spread', '--seed', 'x'], /option '--seed <s>' argument 'x' is invalid. expected a non-negative integer/],
    [['eval', '--world', 'spread', '--policy', 'random', '--agents', '1'], /N: Too small/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  t.end();
});

t.test('fleetmind eval --scripted-roles: a bundle side against the world\'s scripted other side', (t) => {
  const evalJson = (args: string[]) => {
    const r = runCli(['eval', '--episodes', '40', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const bundle = evalJson(['--bundle', 'models/zoo/tag-mlp']);
  const scripted = evalJson(['--world', 'simple_tag', '--policy', 'scripted']);
  const adversaries = evalJson(['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'agent']);
  const prey = evalJson(['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'adversary']);
  t.match(adversaries.policy, /against scripted agent$/);
  // each mix is neither side alone: both controllers really act
  for (const mix of [adversaries, prey]) {
    t.not(mix.episode_team_returns.join(), bundle.episode_team_returns.join());
    t.not(mix.episode_team_returns.join(), scripted.episode_team_returns.join());
  }
  t.same(evalJson(['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'agent']), adversaries, 'reproducible');

  for (const [args, message] of [
    [['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'prey'], /--scripted-roles: no role prey in the bundle \(roles: adversary, agent\)/],
    [['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', 'agent,adversary'], /that is every role/],
    [['--run', 'nowhere', '--scripted-roles', 'agent'], /--scripted-roles applies to a bundle \(--bundle DIR\) or a baseline/],
    [['--world', 'simple_tag', '--policy', 'scripted', '--scripted-roles', 'agent'], /with --policy scripted every role already plays the scripted controller/],
    [['--world', 'simple_tag', '--policy', 'random', '--scripted-roles', 'prey'], /--scripted-roles: no role prey in simple_tag_v3 \(roles: adversary, agent\)/],
    [['--world', 'pong', '--policy', 'random', '--scripted-roles', 'left,right'], /that is every role/],
    [['--world', 'pong', '--policy', 'random', '--scripted-roles', 'right', '--opponent', 'models/zoo/pong-mlp'], /--opponent plays against a bundle/],
    [['--world', 'simple_tag', '--continuous', '--policy', 'random', '--scripted-roles', 'agent'], /plays discrete actions; drop --continuous/],
    [['--bundle', 'models/zoo/tag-mlp', '--scripted-roles', ' , '], /expected a comma-separated list of names/],
  ] as [string[], RegExp][]) {
    const r = runCli(['eval', ...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  t.end();
});

t.test('fleetmind eval --policy random --scripted-roles: the floor a trained side is measured against, on the same games', (t) => {
  const evalJson = (args: string[]) => {
    const r = runCli(['eval', '--world', 'pong', '--episodes', '40', '--seed', '3', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const randomLeft = evalJson(['--policy', 'random', '--scripted-roles', 'right']);
  const randomRight = evalJson(['--policy', 'random', '--scripted-roles', 'left']);
  const scripted = evalJson(['--policy', 'scripted']);
  t.match(randomLeft.policy, /^random against scripted right$/);
  t.equal(randomLeft.outcomes.right_wins_final, 1, 'the scripted right paddle wins every game against a random left one');
  t.equal(randomRight.outcomes.left_wins_final, 1, 'and as left against a random right one');
  t.ok(scripted.outcomes.left_wins_final < 1 && scripted.outcomes.right_wins_final < 1, 'against itself it does not');
  t.same(evalJson(['--policy', 'random', '--scripted-roles', 'right']), randomLeft, 'reproducible');
  t.end();
});

t.test('fleetmind eval --continuous: the baselines of the continuous-action worlds', (t) => {
  const run = (args: string[]) => {
    const r = runCli(['eval', '--world', 'simple_spread', '--continuous', '--episodes', '50', '--seed', '2', '--json', ...args]);
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const random = run(['--policy', 'random']);
  const scripted = run(['--policy', 'scripted']);
  const discreteScripted = JSON.parse(runCli(['eval', '--world', 'simple_spread', '--policy', 'scripted', '--episodes', '50', '--seed', '2', '--json']).stdout);
  t.equal(random.policy, 'random (continuous actions)');
  t.ok(scripted.agent_return_mean > discreteScripted.agent_return_mean, `pushing in proportion (${scripted.agent_return_mean}) beats one direction at a time (${discreteScripted.agent_return_mean})`);
  t.ok(scripted.agent_return_mean > random.agent_return_mean + 10, `scripted ${scripted.agent_return_mean} vs random ${random.agent_return_mean}`);
  for (const [args, message] of [
    [['eval', '--world', 'grid_predator_prey', '--continuous', '--policy', 'random'], /Unrecognized key: "continuousActions"/],
    [['eval', '--bundle', 'models/zoo/spread-mlp', '--continuous'], /--continuous applies to a baseline/],
  ] as [string[], RegExp][]) {
    const r = runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  t.end();
});

t.test('fleetmind eval --bundle --world-option: a shipped bundle on a variant of its world, or a clear refusal', (t) => {
  const base = ['eval', '--bundle', 'models/zoo/spread-mlp', '--episodes', '30', '--seed', '2', '--json'];
  const usual = JSON.parse(runCli(base).stdout);
  // the MAPPO paper's code's starts: the same draws, the landmarks nearer the middle
  const variant = runCli([...base, '--world-option', 'landmarkRange=0.8']);
  t.equal(variant.code, 0, variant.stderr);
  const near = JSON.parse(variant.stdout);
  t.equal(near.episodes, 30);
  t.not(near.team_return_mean, usual.team_return_mean, 'played on the variant, not on the bundle\'s own world');
  t.same(JSON.parse(runCli([...base, '--world-option', 'landmarkRange=0.8']).stdout), near, 'reproducibly');
  const human = runCli(base.filter((a) => a !== '--json').concat('--world-option', 'landmarkRange=0.8'));
  t.match(human.stdout, /bundle spread-mlp [\d.]+, exported for default/, 'the summary says what the bundle was exported for');
  // options that change what an agent observes or does are refused, naming the mismatch
  const lossy = runCli([...base, '--world-option', 'sensorDropout=0.5']);
  t.equal(lossy.code, 2);
  t.match(lossy.stderr, /--world-option sensorDropout=0.5: the bundle cannot play simple_spread_v3 with these options: agent_0 observes 19 values in this simple_spread_v3, the bundle's role agent 18/);
  const boxed = runCli(['eval', '--bundle', 'models/zoo/spread-continuous-mlp', '--episodes', '5', '--world-option', 'N=3']);
  t.equal(boxed.code, 2);
  t.match(boxed.stderr, /agent_0 acts in Discrete\(5\) in this simple_spread_v3, the bundle's role agent in a box of 5/);
  t.end();
});
