// Follows a real-time simulation from a test host: prints "<episode> <tick>" for each
// WorldStepRecord the world publishes on fm/<fleet>/world, so a test acts on the run's own events.

import mqtt from 'mqtt';
import { decodeWorldStepRecord, fleetTopic } from '@fleetmind/wire';

const [url, fleet] = process.argv.slice(2);
const client = await mqtt.connectAsync(url, { reconnectPeriod: 200 });
client.on('message', (_topic, payload) => {
  const r = decodeWorldStepRecord(payload);
  process.stdout.write(`${r.episode} ${r.tick}\n`);
});
await client.subscribeAsync(fleetTopic(fleet, 'world'));
process.stdout.write('watching\n');
process.once('SIGTERM', () => void client.endAsync().then(() => process.exit(0)));
