// @fleetmind/runtime: the edge agent. Its wire format is @fleetmind/wire. Installs without
// TensorFlow.js or aedes.
export { createAgent, onnxPolicy, OBSERVATION_QUEUE_LIMIT } from './agent/agent.js';
export type { AgentOptions, FleetAgent, TickRecord, PolicyFactory } from './agent/agent.js';
export { AgentConfigError, parseAgentSettings } from './agent/agent-options.js';
export type { AgentSettings, AgentSettingsInput } from './agent/agent-options.js';
export { AgentMetrics, serveMetrics } from './agent/metrics.js';
export type { AgentSnapshot, DropReason, ObservationRefusal, SafeReason } from './agent/metrics.js';
export { mpeShield, ShieldError } from './agent/shield.js';
export type { Shield, ShieldInput, MpeShieldOptions } from './agent/shield.js';
export { TransportError } from './agent/transport.js';
export type { Transport, TransportEvents, TransportFactory, TransportOptions } from './agent/transport.js';
export { MqttTransport, mqttTransport } from './agent/mqtt-transport.js';
export { CommunicationRounds } from './agent/communication-rounds.js';
export type { Decision, RoundsContext } from './agent/communication-rounds.js';
export { InProcessAdapter } from './adapters/inproc-adapter.js';
export { MqttAdapter } from './adapters/mqtt-adapter.js';
export { StdioAdapter } from './adapters/stdio-adapter.js';
export type { Adapter, AdapterContext, AdapterLink, ObservationIn, ActionOut } from './adapters/adapter.js';
export { agentCommand } from './cli/agent-command.js';
export { RoundInbox } from './agent/round-inbox.js';
export type { InboxRefusal } from './agent/round-inbox.js';
export { PeerLiveness } from './agent/liveness.js';
export { FlightRecorder, RecordingError, RECORDING_METADATA_NAME, TOPICS as RECORDING_TOPICS } from './recorder/flight-recorder.js';
export type { RecorderSettings, RecorderStats, RecordingMetadata } from './recorder/flight-recorder.js';
export { readRecording } from './recorder/recording-reader.js';
export type { Recording } from './recorder/recording-reader.js';
export { replayRecording, manifestSha256 } from './recorder/replay.js';
export type { ReplayReport, ReplayDifference } from './recorder/replay.js';
