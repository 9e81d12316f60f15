// cue_recall_v0 — a world where one observation is not enough: a fleetmind world plugin, plain
// JavaScript, one file.
//
//   fleetmind worlds check examples/worlds/recall.js
//   fleetmind train --world examples/worlds/recall.js --actor gru --steps 150000
//   fleetmind eval  --world examples/worlds/recall.js --policy scripted
//
// Agent i enters at step i × stagger and is shown a cue (one of `cues`) on that step only; from
// then on it sees nothing but an "answer now" flag, which rises `delay` steps after its entry.
// On that step its action is its answer: it is rewarded 1 if the answer is its cue, and it
// leaves. A policy without memory cannot beat chance (1 / cues); one with memory answers every
// time. Agents come and go (the world contract's active mask), so a recurrent policy must also
// start each agent's memory afresh when it enters.
//
// The scripted controller remembers each agent's cue itself: the reference a memory can reach.

class RecallCore {
  constructor(numEnvs, { N, cues, delay, stagger }) {
    this.id = 'cue_recall_v0';
    this.numEnvs = numEnvs;
    this.n = N;
    this.cues = cues;
    this.delay = delay;
    this.stagger = stagger;
    // the last agent answers on step (N − 1)·stagger + delay: the episode ends with it
    this.maxCycles = (N - 1) * stagger + delay + 1;
    this.possibleAgents = Array.from({ length: N }, (_, i) => `agent_${i}`);
    this.roles = this.possibleAgents.map(() => 'agent');
    // the cue (one-hot, on the entry step only), then the answer-now flag
    this.obsDims = this.possibleAgents.map(() => cues + 1);
    this.actionSpaces = this.possibleAgents.map(() => ({ kind: 'discrete', n: cues }));
    this.stateSize = N * (cues + 2); // per agent: its cue, whether it is in, how far into its wait
    this.infoKeys = ['correct', 'answered']; // this step's: an episode's totals are its counts
    const cells = numEnvs * N;
    this.cue = new Int32Array(cells);
    this.state = new Uint8Array(cells); // 0 not entered yet, 1 waiting, 2 answered (gone)
    this.steps = new Int32Array(numEnvs);
    this.rewardNow = new Float64Array(cells);
    this.correct = new Float64Array(numEnvs);
    this.answered = new Float64Array(numEnvs);
  }

  observationFields() {
    return [...Array.from({ length: this.cues }, (_, c) => `cue_${c}`), 'answer_now'];
  }

  resetEnv(e, rng) {
    for (let i = 0; i < this.n; i++) {
      this.cue[e * this.n + i] = rng.int(this.cues);
      this.state[e * this.n + i] = i === 0 ? 1 : 0;
    }
    this.steps[e] = 0;
    this.correct[e] = 0;
    this.answered[e] = 0;
  }

  isActive(e, i) {
    return this.state[e * this.n + i] === 1;
  }

  /** steps since agent i entered (0 on its entry step) */
  waited(e, i) {
    return this.steps[e] - i * this.stagger;
  }

  stepPhysics(actions) {
    for (let e = 0; e < this.numEnvs; e++) {
      this.correct[e] = 0;
      this.answered[e] = 0;
      for (let i = 0; i < this.n; i++) {
        const k = e * this.n + i;
        this.rewardNow[k] = 0;
        if (this.state[k] !== 1 || this.waited(e, i) !== this.delay) continue;
        // the answer step: the action is the answer, and the agent leaves
        const right = actions[k] === this.cue[k];
        this.rewardNow[k] = right ? 1 : 0;
        this.correct[e] += right ? 1 : 0;
        this.answered[e] += 1;
        this.state[k] = 2;
      }
      this.steps[e]++;
      for (let i = 0; i < this.n; i++) if (this.state[e * this.n + i] === 0 && this.waited(e, i) >= 0) this.state[e * this.n + i] = 1;
    }
  }

  rewards(e, out, offset) {
    let done = true;
    for (let i = 0; i < this.n; i++) {
      out[offset + i] = this.rewardNow[e * this.n + i];
      if (this.state[e * this.n + i] !== 2) done = false;
    }
    return done; // everyone answered: the episode ends
  }

  observe(e, i, out, offset) {
    const k = e * this.n + i;
    out.fill(0, offset, offset + this.cues + 1);
    if (this.state[k] !== 1) return;
    if (this.waited(e, i) === 0) out[offset + this.cue[k]] = 1;
    if (this.waited(e, i) === this.delay) out[offset + this.cues] = 1;
  }

  writeInfos(e, infos) {
    infos.correct[e] = this.correct[e];
    infos.answered[e] = this.answered[e];
  }

  writeState(e, out, offset) {
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      const at = offset + i * (this.cues + 2);
      out.fill(0, at, at + this.cues + 2);
      out[at + this.cue[k]] = 1;
      out[at + this.cues] = this.state[k] === 1 ? 1 : 0;
      out[at + this.cues + 1] = Math.max(0, this.waited(e, i)) / this.maxCycles;
    }
  }

  // a snapshot is this world's own JSON: enough to put an env back exactly
  snapshot(e) {
    const agents = [];
    for (let i = 0; i < this.n; i++) {
      const k = e * this.n + i;
      agents.push({ cue: this.cue[k], state: ['waiting', 'in', 'answered'][this.state[k]] });
    }
    return { steps: this.steps[e], correct: this.correct[e], answered: this.answered[e], agents };
  }

  setState(e, snapshot) {
    const { agents, steps, correct, answered } = snapshot;
    if (!Array.isArray(agents) || agents.length !== this.n) throw new Error(`cue_recall_v0: snapshot.agents must list ${this.n} agents`);
    if (![steps, correct, answered].every(Number.isInteger)) throw new Error('cue_recall_v0: snapshot.steps, .correct and .answered must be integers');
    agents.forEach((a, i) => {
      const state = ['waiting', 'in', 'answered'].indexOf(a?.state);
      if (state < 0 || !Number.isInteger(a.cue) || a.cue < 0 || a.cue >= this.cues) throw new Error(`cue_recall_v0: snapshot.agents[${i}] must be { cue: 0…${this.cues - 1}, state: waiting|in|answered }`);
      this.cue[e * this.n + i] = a.cue;
      this.state[e * this.n + i] = state;
    });
    this.steps[e] = steps;
    this.correct[e] = correct;
    this.answered[e] = answered;
  }
}

export default {
  id: 'cue_recall_v0',
  summary: 'Each agent is shown a cue when it enters and must name it some steps later, when told to answer: a task for memory (agents come and go)',
  options: {
    N: { type: 'integer', min: 1, max: 16, default: 2, description: 'number of agents' },
    cues: { type: 'integer', min: 2, max: 16, default: 3, description: 'distinct cues (and actions): chance is 1 / cues' },
    delay: { type: 'integer', min: 1, max: 100, default: 4, description: 'steps from an agent\'s cue to its answer' },
    stagger: { type: 'integer', min: 0, max: 100, default: 1, description: 'agent i enters at step i × stagger' },
  },
  makeCore: (numEnvs, options) => new RecallCore(numEnvs, options),
  // the reference with a perfect memory: it keeps what each agent was shown and answers with it
  scripted: (world) => {
    const remembered = new Map();
    return {
      act(observations, actions) {
        const n = world.possibleAgents.length;
        for (let i = 0; i < n; i++) {
          const obs = observations[i];
          const width = obs.length / world.numEnvs;
          for (let e = 0; e < world.numEnvs; e++) {
            const cue = Array.from(obs.subarray(e * width, e * width + width - 1)).indexOf(1);
            if (cue >= 0) remembered.set(e * n + i, cue);
            actions[e * n + i] = remembered.get(e * n + i) ?? 0;
          }
        }
      },
    };
  },
  jointSuccess: { description: 'every agent named its cue', reached: (episode, agents) => episode.total.correct >= agents },
};
