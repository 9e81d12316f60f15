// `fleetmind dashboard`: serve the live fleet page (@fleetmind/dashboard) until Ctrl-C.

import type { Command } from 'commander';
import { defaultDashboardOptions } from '@fleetmind/dashboard/options';
import { CliError } from '../errors.js';
import { portNumber, positiveInt } from '../options.js';

interface DashboardCliOptions {
  broker: string;
  fleet?: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  peerTimeoutMs: number;
  foxglovePort?: number;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('serve a live page of a fleet (real or `fleetmind sim --hz …`): every agent with its liveness, tier, bundle version and latencies, message rates, drops and deadline misses, who heard whom, and a simulated world\'s map')
    .requiredOption('--broker <url>', 'the fleet\'s MQTT broker, e.g. mqtt://127.0.0.1:1883')
    .option('--fleet <name>', 'one fleet (default: every fleet on the broker)')
    .option('--host <address>', 'serve the page on this address (0.0.0.0: to the network; it has no login)', defaultDashboardOptions.host)
    .option('--port <port>', 'serve the page on this port (0: any free one)', portNumber, defaultDashboardOptions.port)
    .option('--username <user>', 'broker username (an admin, or a world user of the fleet)')
    .option('--password <password>', 'broker password (or set FLEETMIND_PASSWORD, which ps does not show)')
    .option('--foxglove-port <port>', 'also serve a Foxglove WebSocket bridge here: Foxglove Studio\'s "Open connection" sees every agent\'s status and the world live, with fleetmind.proto\'s schemas (0: any free port)', portNumber)
    .option('--peer-timeout-ms <ms>', 'show an agent offline after this long without a heartbeat or status', positiveInt, defaultDashboardOptions.peerTimeoutMs)
    .addHelpText('after', `
Agents publish a status every second (fleetmind agent --status-ms); the page updates every
${defaultDashboardOptions.intervalMs} ms. A simulation run with --hz publishes its world each tick, so its map shows too.

Examples:
  $ fleetmind dashboard --broker mqtt://127.0.0.1:1883 --fleet warehouse
  $ fleetmind sim --bundle models/zoo/spread-commnet --broker mqtt://127.0.0.1:1883 --hz 10 --episodes 100 &
    fleetmind dashboard --broker mqtt://127.0.0.1:1883 --port 8080`)
    .action(async (opts: DashboardCliOptions) => {
      if (opts.fleet !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(opts.fleet)) throw new CliError(`--fleet: expected 1-64 characters of A-Z a-z 0-9 _ . -, got "${opts.fleet}"`);
      if (!/^(mqtts?|wss?):\/\//.test(opts.broker)) throw new CliError(`--broker: expected mqtt://host:port (or mqtts, ws, wss), got "${opts.broker}"`);
      const { startDashboard } = await import('@fleetmind/dashboard');
      const dashboard = await startDashboard({
        ...defaultDashboardOptions, broker: opts.broker, fleet: opts.fleet ?? null, host: opts.host, port: opts.port,
        username: opts.username, password: opts.password ?? process.env.FLEETMIND_PASSWORD, peerTimeoutMs: opts.peerTimeoutMs,
        foxglovePort: opts.foxglovePort ?? null,
      });
      process.stdout.write(`dashboard of ${opts.fleet ? `fleet ${opts.fleet}` : 'every fleet'} on ${opts.broker}: ${dashboard.url}\n`);
      if (dashboard.foxgloveUrl) process.stdout.write(`Foxglove bridge: ${dashboard.foxgloveUrl}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await dashboard.close();
    });
}
