// @fleetmind/dashboard: a live view of a fleet from what crosses its broker (ARCHITECTURE.md,
// "The dashboard"). Depends only on the wire contract, so it watches real fleets and simulated
// ones alike.
export { startDashboard, DashboardError } from './dashboard-server.js';
export type { Dashboard } from './dashboard-server.js';
export { defaultDashboardOptions, type DashboardOptions } from './dashboard-options.js';
export { FleetView, MAX_AGENTS } from './fleet-view.js';
export { startFoxgloveBridge } from './foxglove-bridge.js';
export type { FoxgloveBridge } from './foxglove-bridge.js';
export type { AgentView, FleetSnapshot } from './fleet-view.js';
