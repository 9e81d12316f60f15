export { RoleRunner } from './role-runner.js';
export type { PolicyOutput, PolicySession, StageOutput } from './policy-session.js';
export { teamStep } from './team-step.js';
