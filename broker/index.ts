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
