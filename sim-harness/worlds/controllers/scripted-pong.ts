// pong_v0's scripted controller: a paddle follows the ball's height as it was `reactionDelay`
// steps ago, while the ball comes toward its side (otherwise it drifts back to the middle of its
// range), moving on only a share of the steps (a bounded speed), with a dead zone. Late and slower
// than a steep ball, it loses to balls returned from a paddle's edge: it can be beaten.

import { DOWN, STAY, UP } from '../pong.js';
import type { Controller } from './controller.js';

export interface ScriptedPongOptions {
  /** steps between seeing the ball and acting on it (default 6) */
  reactionDelay?: number;
  /** no move while this close to the target height (default 0.05) */
  deadZone?: number;
  /** the share of steps it may move on, evenly spread: its top speed as a share of the paddle's (default 0.6) */
  speed?: number;
}

/** obsDim: one agent's observation length; perSide: paddles a side (a mate's range is the other half) */
export function scriptedPongController(numAgents: number, obsDim: number, perSide: number, options: ScriptedPongOptions = {}): Controller {
  const delay = options.reactionDelay ?? 6;
  const deadZone = options.deadZone ?? 0.05;
  const speed = options.speed ?? 0.6;
  let steps = 0;
  /** per (env, agent): the ball heights seen, newest last */
  let seen: number[][] = [];
  return {
    act(observations, actions) {
      const rows = actions.length;
      if (seen.length !== rows) seen = Array.from({ length: rows }, () => []);
      // moves on ⌊(t+1)·speed⌋ − ⌊t·speed⌋ = 1 of its steps: evenly, a share `speed` of them
      const moves = Math.floor((steps + 1) * speed) > Math.floor(steps * speed);
      steps++;
      for (let row = 0; row < rows; row++) {
        const i = row % numAgents;
        const e = (row - i) / numAgents;
        const o = observations[i];
        const at = e * obsDim;
        const selfY = o[at];
        const ballVx = o[at + 3];
        const history = seen[row];
        history.push(o[at + 2]);
        if (history.length > delay + 1) history.shift();
        // a new game (the score back at 0 and the ball served from the centre) starts a new memory
        if (o[at + 1] === 0 && history.length > 1) history.splice(0, history.length - 1);
        const k = i % perSide;
        const home = perSide === 1 ? 0 : k === 0 ? 0.5 : -0.5;
        const target = ballVx < 0 ? history[0] : home;
        actions[row] = !moves ? STAY : target > selfY + deadZone ? UP : target < selfY - deadZone ? DOWN : STAY;
      }
    },
  };
}
