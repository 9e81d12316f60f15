// docking_v0 — a fleetmind world plugin, written as a user would write one: plain JavaScript,
// no imports, one file. Load it anywhere a world id goes:
//
//   fleetmind worlds check examples/worlds/docking.js
//   fleetmind train --world examples/worlds/docking.js --steps 300000
//   fleetmind eval  --world examples/worlds/docking.js --policy scripted
//
// The task: N delivery robots arrive at a depot one after another (robot i enters at step
// i × stagger), each drives to its own charging dock with a velocity command (continuous:
// [vx, vy] in [-1, 1]²) and leaves the depot once docked. Robots that have not arrived yet or
// have left are *inactive*: they act on nothing and are rewarded nothing (the world contract's
// active mask). Every step an active robot pays its distance to its dock, and 1 for being too
// close to another active robot; docking pays 5.
//
// A world is data plus a step function: the core below holds E independent envs in flat typed
// arrays and advances all of them at once (fleetmind's WorldCore contract, see
// sim-harness/worlds/batched-world.ts). fleetmind adds episodes, the step limit, seeding,
// action validation and the PettingZoo-style results around it.

const DT = 0.1; // seconds per step
const MAX_SPEED = 1.0; // metres per second at a command of 1
const DOCK_RADIUS = 0.1; // docked when this close
const TOO_CLOSE = 0.15; // the collision penalty's distance

class DockingCore {
  constructor(numEnvs, { N, stagger, maxCycles }) {
    this.id = 'docking_v0';
    this.numEnvs = numEnvs;
    this.n = N;
    this.stagger = stagger;
    this.maxCycles = maxCycles;
    this.possibleAgents = Array.from({ length: N }, (_, i) => `robot_${i}`);
    this.roles = this.possibleAgents.map(() => 'robot');
    // own position, the dock relative to it, and the nearest other active robot relative to it
    this.obsDims = this.possibleAgents.map(() => 6);
    // continuous actions: a Box, here written as the plain object fleetmind's continuousSpace() makes
    const box = { kind: 'continuous', shape: [2], low: [-1, -1], high: [1, 1], dtype: 'float32' };
    this.actionSpaces = this.possibleAgents.map(() => box);
    this.stateSize = N * 5; // per robot: position, dock, active
    this.infoKeys = ['docked', 'collisions'];
    const cells = numEnvs * N;
    this.pos = new Float64Array(cells * 2);
    this.dock = new Float64Array(cells * 2);
    this.state = new Uint8Array(cells); // 0 not arrived yet, 1 driving, 2 docked (gone)
    this.steps = new Int32Array(numEnvs);
    this.dockedNow = new Float64Array(cells); // this step's docking, for its reward
    this.collisions = new Float64Array(numEnvs);
  }

  observationFields() {
    return ['self_pos.x', 'self_pos.y', 'dock_rel.x', 'dock_rel.y', 'nearest_rel.x', 'nearest_rel.y'];
  }

  resetEnv(e, rng) {
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      // arrivals along the depot's gate (y = -1), docks scattered inside
      this.pos[k * 2] = rng.uniform(-1, 1);
      this.pos[k * 2 + 1] = -1;
      this.dock[k * 2] = rng.uniform(-1, 1);
      this.dock[k * 2 + 1] = rng.uniform(0, 1);
      this.state[k] = i === 0 ? 1 : 0;
    }
    this.steps[e] = 0;
  }

  isActive(e, i) {
    return this.state[e * this.n + i] === 1;
  }

  stepPhysics(actions) {
    for (let e = 0; e < this.numEnvs; e++) {
      this.collisions[e] = 0;
      for (let i = 0; i < this.n; i++) {
        const k = e * this.n + i;
        this.dockedNow[k] = 0;
        if (this.state[k] !== 1) continue; // an inactive robot's action is ignored
        // fleetmind has already clipped the command into the box
        this.pos[k * 2] += actions[k * 2] * MAX_SPEED * DT;
        this.pos[k * 2 + 1] += actions[k * 2 + 1] * MAX_SPEED * DT;
        if (Math.hypot(this.pos[k * 2] - this.dock[k * 2], this.pos[k * 2 + 1] - this.dock[k * 2 + 1]) < DOCK_RADIUS) {
          this.state[k] = 2;
          this.dockedNow[k] = 1;
        }
      }
      this.steps[e]++;
      // scheduled arrivals
      for (let i = 0; i < this.n; i++) if (this.state[e * this.n + i] === 0 && this.steps[e] >= i * this.stagger) this.state[e * this.n + i] = 1;
    }
  }

  rewards(e, out, offset) {
    let done = true;
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      let r = 0;
      if (this.dockedNow[k]) r += 5;
      if (this.state[k] === 1) {
        r -= Math.hypot(this.pos[k * 2] - this.dock[k * 2], this.pos[k * 2 + 1] - this.dock[k * 2 + 1]);
        for (let j = 0; j < this.n; j++) {
          if (j === i || this.state[e * this.n + j] !== 1) continue;
          if (Math.hypot(this.pos[k * 2] - this.pos[(e * this.n + j) * 2], this.pos[k * 2 + 1] - this.pos[(e * this.n + j) * 2 + 1]) < TOO_CLOSE) {
            r -= 1;
            this.collisions[e] += 0.5; // each pair is counted from both sides
          }
        }
      }
      out[offset + i] = r;
      if (this.state[k] !== 2) done = false;
    }
    return done; // every robot docked: the episode ends (a termination)
  }

  observe(e, i, out, offset) {
    const k = e * this.n + i;
    const x = this.pos[k * 2];
    const y = this.pos[k * 2 + 1];
    let nearest = [0, 0];
    let best = Infinity;
    for (let j = 0; j < this.n; j++) {
      const q = e * this.n + j;
      if (j === i || this.state[q] !== 1) continue;
      const d = Math.hypot(this.pos[q * 2] - x, this.pos[q * 2 + 1] - y);
      if (d < best) { best = d; nearest = [this.pos[q * 2] - x, this.pos[q * 2 + 1] - y]; }
    }
    out[offset] = x;
    out[offset + 1] = y;
    out[offset + 2] = this.dock[k * 2] - x;
    out[offset + 3] = this.dock[k * 2 + 1] - y;
    out[offset + 4] = nearest[0];
    out[offset + 5] = nearest[1];
  }

  writeInfos(e, infos) {
    let docked = 0;
    for (let i = 0; i < this.n; i++) if (this.state[e * this.n + i] === 2) docked++;
    infos.docked[e] = docked;
    infos.collisions[e] = this.collisions[e];
  }

  writeState(e, out, offset) {
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      out.set([this.pos[k * 2], this.pos[k * 2 + 1], this.dock[k * 2], this.dock[k * 2 + 1], this.state[k] === 1 ? 1 : 0], offset + i * 5);
    }
  }

  // a snapshot is this world's own JSON: enough to put an env back exactly
  snapshot(e) {
    const robots = [];
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      robots.push({ pos: [this.pos[k * 2], this.pos[k * 2 + 1]], dock: [this.dock[k * 2], this.dock[k * 2 + 1]], state: ['waiting', 'driving', 'docked'][this.state[k]] });
    }
    return { robots };
  }

  setState(e, snapshot) {
    const { robots } = snapshot;
    if (!Array.isArray(robots) || robots.length !== this.n) throw new Error(`docking_v0: snapshot.robots must list ${this.n} robots`);
    robots.forEach((r, i) => {
      const state = ['waiting', 'driving', 'docked'].indexOf(r?.state);
      const pair = (p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite);
      if (state < 0 || !pair(r.pos) || !pair(r.dock)) throw new Error(`docking_v0: snapshot.robots[${i}] must be { pos: [x, y], dock: [x, y], state: waiting|driving|docked }`);
      const k = e * this.n + i;
      this.pos.set(r.pos, k * 2);
      this.dock.set(r.dock, k * 2);
      this.state[k] = state;
    });
    this.steps[e] = snapshot.steps;
  }

  positions(e) {
    const agents = [];
    const others = [];
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      agents.push([this.pos[k * 2], this.pos[k * 2 + 1]]);
      others.push([this.dock[k * 2], this.dock[k * 2 + 1]]);
    }
    return { agents, others };
  }
}

export default {
  id: 'docking_v0',
  summary: 'Robots arrive one by one, drive to their own dock with a velocity command (Box [-1, 1]²) and leave once docked (agents come and go)',
  options: {
    N: { type: 'integer', min: 1, max: 32, default: 4, description: 'number of robots' },
    stagger: { type: 'integer', min: 0, max: 100, default: 3, description: 'robot i arrives at step i × stagger' },
    maxCycles: { type: 'integer', min: 1, max: 10000, default: 40, description: 'episode step limit' },
  },
  makeCore: (numEnvs, options) => new DockingCore(numEnvs, options),
  // the scripted reference: straight to the dock, slowing down on the last step
  scripted: (world) => ({
    act(observations, actions) {
      const n = world.possibleAgents.length;
      for (let i = 0; i < n; i++) {
        const obs = observations[i];
        for (let e = 0; e < obs.length / 6; e++) {
          const dx = obs[e * 6 + 2];
          const dy = obs[e * 6 + 3];
          const scale = Math.min(1, Math.hypot(dx, dy) / (MAX_SPEED * DT)) / (Math.hypot(dx, dy) || 1);
          actions[(e * n + i) * 2] = Math.max(-1, Math.min(1, dx * scale));
          actions[(e * n + i) * 2 + 1] = Math.max(-1, Math.min(1, dy * scale));
        }
      }
    },
  }),
  jointSuccess: { description: 'every robot docked', reached: (episode, agents) => episode.final.docked >= agents },
};
