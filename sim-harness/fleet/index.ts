export { simulate, SimError } from './simulate.js';
export type { SimOptions, SimReport, TickTrace } from './simulate.js';
export type { FleetMode } from './fleet-member.js';
export { parseFaultPlan, loadFaultPlan, FaultPlanError, FAULT_KINDS, windowOpen } from '../faults/fault-plan.js';
export type { Fault, FaultKind, FaultPlan } from '../faults/fault-plan.js';
export { FaultEngine } from '../faults/fault-engine.js';
export type { FaultEvent } from '../faults/fault-engine.js';
