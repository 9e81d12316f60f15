// The entry of a worker-thread fleet member: one runtime agent in its own thread (own event loop
// and ONNX Runtime sessions), fed observations and returning actions over the thread's port.

import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { createAgent, InProcessAdapter, type AgentSettingsInput, type ObservationIn } from '@fleetmind/runtime';

export interface AgentWorkerData {
  bundleDir: string;
  id: string;
  brokerUrl: string;
  fleet: string;
  settings: AgentSettingsInput;
  credentials?: { username: string; password: string };
  bundleStore?: string;
}

export type ToWorker = { type: 'observe'; observation: ObservationIn } | { type: 'standby' } | { type: 'freeze'; frozen: boolean } | { type: 'stop' };

const data = workerData as AgentWorkerData;
const port = parentPort!;
const adapter = new InProcessAdapter((action) => port.postMessage({ type: 'action', action }));
const agent = await createAgent({
  bundle: data.bundleDir, agentId: data.id, broker: data.brokerUrl, fleet: data.fleet, adapter, logger: pino({ level: 'silent' }), ...data.settings, ...data.credentials, bundleStore: data.bundleStore,
});
let frozen = false;
port.on('message', async (m: ToWorker) => {
  if (m.type === 'observe' && !frozen) adapter.observe(m.observation);
  else if (m.type === 'standby' && !frozen) adapter.standby();
  else if (m.type === 'freeze') frozen = m.frozen;
  else if (m.type === 'stop') {
    await agent.stop();
    port.postMessage({ type: 'stopped' });
    port.close();
  }
});
port.postMessage({ type: 'started' });
