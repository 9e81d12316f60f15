export { RoleRunner } from './role-runner.js';
export type { ActOptions, PolicyOutput, PolicySession, StageOutput } from './policy-session.js';
export { teamStep } from './team-step.js';
