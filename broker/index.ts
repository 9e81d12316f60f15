// @fleetmind/broker: the embedded MQTT broker and its command. Its wire contract is @fleetmind/wire.
export { startBroker, defaultBrokerOptions, BrokerError } from './broker.js';
export { UsersFile, UsersFileError, ROLES } from './auth/users-file.js';
export { authorizePublishTopic, authorizeSubscribeFilter, clientIdMatches } from './auth/acl.js';
export { PacketSizeGuard } from './limits/packet-size-guard.js';
export { ConnectionRateLimiter } from './limits/connection-rate.js';
export { BrokerMetrics } from './metrics.js';
export { guardEmitter } from './limits/overload-guard.js';

export type { BrokerOptions, FleetBroker } from './broker.js';
export type { Principal, Role, StoredUser } from './auth/users-file.js';
export type { AclDecision } from './auth/acl.js';
export type { RefusalReason } from './metrics.js';
export type { OverloadGuardOptions } from './limits/overload-guard.js';
export { brokerCommand, BrokerCliError } from './cli/broker-command.js';
export { writeSecretFile } from './auth/secret-file.js';
export { principalFromSubject } from './auth/device-identity.js';
export type { TlsOptions } from './broker.js';
// the X.509 tools (a device CA, certificates, revocations) are at '@fleetmind/broker/certificates'
