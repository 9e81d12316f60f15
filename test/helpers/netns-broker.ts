// A clustered fleetmind broker on a test host (netns-hosts.ts): on the host's address, sharing its
// routing through Redis, anonymous (the hosts' network is the test's own). Says "ready" when it
// listens; SIGTERM closes it.

import { startBroker } from '@fleetmind/broker';

const [host, redis] = process.argv.slice(2);
const broker = await startBroker({ host, port: 1883, allowAnonymous: true, redis, drainTimeoutMs: 1_000 });
process.stdout.write(`ready ${broker.url}\n`);
process.once('SIGTERM', () => void broker.close().then(() => process.exit(0)));
