export { RoleRunner } from './role-runner.js';
export type { PolicyOutput, StageOutput } from './role-runner.js';
export { teamStep } from './team-step.js';
