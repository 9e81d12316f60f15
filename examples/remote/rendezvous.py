"""rendezvous_v0 — a small cooperative task served to fleetmind from Python (standard library only).

N robots start scattered on the square [-1, 1]^2 and must meet: each step every robot moves
0.1 in one of four directions or stays (Discrete(5)), and the team is paid minus the robots'
mean distance to their centroid (each robot gets that reward). An episode is 25 steps.

    python3 examples/remote/rendezvous.py --listen tcp://127.0.0.1:7000
    fleetmind train --world remote:tcp://127.0.0.1:7000 --envs 64 --steps 300000

Options (fleetmind sends them in HELLO from the run's world config): N (robots, default 3).
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from world_server import BatchedWorld, Refused, serve  # noqa: E402

MOVES = [(0.0, 0.0), (-0.1, 0.0), (0.1, 0.0), (0.0, -0.1), (0.0, 0.1)]  # stay, left, right, down, up
MET = 0.2  # every robot this close to the centroid: the team has met


class Rendezvous(BatchedWorld):
    id = "rendezvous_v0"
    max_cycles = 25
    info_keys = ["spread", "met"]

    def __init__(self, num_envs, auto_reset, options):
        super().__init__(num_envs, auto_reset, options)
        unknown = set(options) - {"N"}
        if unknown:
            raise Refused("unknown option(s) %s; rendezvous_v0 takes N" % ", ".join(sorted(unknown)), "options")
        n = options.get("N", 3)
        if not isinstance(n, int) or not 2 <= n <= 32:
            raise Refused("N must be an integer in [2, 32], got %r" % (n,), "options.N")
        self.n = n
        self.agents = ["robot_%d" % i for i in range(n)]
        self.roles = ["robot"] * n
        self.observation_sizes = [2 * n] * n
        self.observation_fields = [["self.x", "self.y"] + ["%s.%s" % (o, c) for o in self.agents if o != a for c in "xy"] for a in self.agents]
        self.action_spaces = [{"kind": "discrete", "n": 5}] * n
        self.state_size = 2 * n
        self.pos = [[0.0] * (2 * n) for _ in range(num_envs)]
        self.last_spread = [0.0] * num_envs

    def _spread(self, e):
        p, n = self.pos[e], self.n
        cx = sum(p[0::2]) / n
        cy = sum(p[1::2]) / n
        return sum(math.hypot(p[2 * i] - cx, p[2 * i + 1] - cy) for i in range(n)) / n, cx, cy

    def reset_env(self, e, rng):
        self.pos[e] = [rng.uniform(-1.0, 1.0) for _ in range(2 * self.n)]
        self.last_spread[e] = self._spread(e)[0]

    def step_env(self, e, actions):
        p = self.pos[e]
        for i, a in enumerate(actions):
            dx, dy = MOVES[a]
            p[2 * i] = min(1.0, max(-1.0, p[2 * i] + dx))
            p[2 * i + 1] = min(1.0, max(-1.0, p[2 * i + 1] + dy))
        spread = self._spread(e)[0]
        self.last_spread[e] = spread
        return [-spread] * self.n, False

    def observe(self, e, i):
        p = self.pos[e]
        x, y = p[2 * i], p[2 * i + 1]
        out = [x, y]
        for j in range(self.n):
            if j != i:
                out.append(p[2 * j] - x)
                out.append(p[2 * j + 1] - y)
        return out

    def state(self, e):
        return self.pos[e]

    def infos(self, e):
        spread, cx, cy = self._spread(e)
        p = self.pos[e]
        met = all(math.hypot(p[2 * i] - cx, p[2 * i + 1] - cy) <= MET for i in range(self.n))
        return [spread, 1.0 if met else 0.0]

    def snapshot(self, e):
        return {"steps": self.steps[e], "pos": list(self.pos[e])}

    def set_state(self, e, snapshot):
        pos = snapshot.get("pos")
        if not isinstance(pos, list) or len(pos) != 2 * self.n or not all(isinstance(v, (int, float)) and -1 <= v <= 1 for v in pos):
            raise Refused("snapshot.pos must be %d numbers in [-1, 1]" % (2 * self.n), "snapshot.pos")
        self.pos[e] = [float(v) for v in pos]


if __name__ == "__main__":
    serve(Rendezvous)
