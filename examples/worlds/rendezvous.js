// rendezvous_v0 in process — the same task as the Python reference server's
// (examples/remote/rendezvous.py), written as a fleetmind world plugin, so that a served world
// and its in-process twin can be measured side by side (`fleetmind bench remote`). Its episodes
// are not the Python ones (each side draws from its own random generator); its rules are.
//
// N robots start scattered on [-1, 1]² and must meet: each step every robot moves 0.1 in one of
// four directions or stays (Discrete(5)); every robot is paid minus the team's mean distance to
// its centroid. 25 steps an episode.

const MOVES = [[0, 0], [-0.1, 0], [0.1, 0], [0, -0.1], [0, 0.1]]; // stay, left, right, down, up
const MET = 0.2; // every robot this close to the centroid: the team has met

class RendezvousCore {
  constructor(numEnvs, { N }) {
    this.id = 'rendezvous_v0';
    this.numEnvs = numEnvs;
    this.n = N;
    this.maxCycles = 25;
    this.possibleAgents = Array.from({ length: N }, (_, i) => `robot_${i}`);
    this.roles = this.possibleAgents.map(() => 'robot');
    this.obsDims = this.possibleAgents.map(() => 2 * N);
    this.actionSpaces = this.possibleAgents.map(() => ({ kind: 'discrete', n: 5 }));
    this.stateSize = 2 * N;
    this.infoKeys = ['spread', 'met'];
    this.pos = new Float64Array(numEnvs * N * 2);
  }

  observationFields(i) {
    const others = this.possibleAgents.filter((_, j) => j !== i).flatMap((a) => [`${a}.x`, `${a}.y`]);
    return ['self.x', 'self.y', ...others];
  }

  resetEnv(e, rng) {
    for (let k = 0; k < 2 * this.n; k++) this.pos[e * 2 * this.n + k] = rng.uniform(-1, 1);
  }

  stepPhysics(actions) {
    for (let e = 0; e < this.numEnvs; e++) {
      for (let i = 0; i < this.n; i++) {
        const [dx, dy] = MOVES[actions[e * this.n + i]];
        const k = (e * this.n + i) * 2;
        this.pos[k] = Math.min(1, Math.max(-1, this.pos[k] + dx));
        this.pos[k + 1] = Math.min(1, Math.max(-1, this.pos[k + 1] + dy));
      }
    }
  }

  /** the robots' distances to their centroid in env e */
  distances(e) {
    const base = e * 2 * this.n;
    let cx = 0;
    let cy = 0;
    for (let i = 0; i < this.n; i++) { cx += this.pos[base + 2 * i]; cy += this.pos[base + 2 * i + 1]; }
    cx /= this.n;
    cy /= this.n;
    return Array.from({ length: this.n }, (_, i) => Math.hypot(this.pos[base + 2 * i] - cx, this.pos[base + 2 * i + 1] - cy));
  }

  rewards(e, out, offset) {
    const d = this.distances(e);
    const spread = d.reduce((a, b) => a + b, 0) / this.n;
    for (let i = 0; i < this.n; i++) out[offset + i] = -spread;
    return false;
  }

  observe(e, i, out, offset) {
    const base = e * 2 * this.n;
    const x = this.pos[base + 2 * i];
    const y = this.pos[base + 2 * i + 1];
    out[offset] = x;
    out[offset + 1] = y;
    let at = offset + 2;
    for (let j = 0; j < this.n; j++) {
      if (j === i) continue;
      out[at++] = this.pos[base + 2 * j] - x;
      out[at++] = this.pos[base + 2 * j + 1] - y;
    }
  }

  writeInfos(e, infos) {
    const d = this.distances(e);
    infos.spread[e] = d.reduce((a, b) => a + b, 0) / this.n;
    infos.met[e] = d.every((x) => x <= MET) ? 1 : 0;
  }

  writeState(e, out, offset) {
    for (let k = 0; k < 2 * this.n; k++) out[offset + k] = this.pos[e * 2 * this.n + k];
  }

  snapshot(e) {
    return { pos: Array.from(this.pos.subarray(e * 2 * this.n, (e + 1) * 2 * this.n)) };
  }

  setState(e, snapshot) {
    const { pos } = snapshot;
    if (!Array.isArray(pos) || pos.length !== 2 * this.n || !pos.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)) {
      throw new Error(`rendezvous_v0: snapshot.pos must be ${2 * this.n} numbers in [-1, 1]`);
    }
    this.pos.set(pos, e * 2 * this.n);
  }
}

export default {
  id: 'rendezvous_v0',
  summary: 'Robots on [-1, 1]² meet: each moves 0.1 a step (Discrete(5)), all are paid minus the mean distance to their centroid (the Python reference server\'s task, in process)',
  options: { N: { type: 'integer', min: 2, max: 32, default: 3, description: 'number of robots' } },
  makeCore: (numEnvs, options) => new RendezvousCore(numEnvs, options),
};
