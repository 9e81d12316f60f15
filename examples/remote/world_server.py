"""A fleetmind remote-world server in standard-library Python (3.8+).

It speaks the remote-world protocol, version 1 (docs/remote-world-protocol.md), so that
`fleetmind train --world remote:tcp://HOST:PORT` trains against a simulator written in Python.
Copy this file next to your simulator and subclass `BatchedWorld`: you write what one env does
(reset, step, observe, reward), this file does the batching, episodes, auto-reset, framing and
errors. `rendezvous.py` is a complete example.
"""

import argparse
import json
import socket
import socketserver
import struct
import sys
import time
from array import array

PROTOCOL = 1
HELLO, SPEC, RESET, OBSERVATIONS, STEP, STEP_RESULT = 1, 2, 3, 4, 5, 6
SNAPSHOT, SNAPSHOT_RESULT, SET_STATE, CLOSE, ERROR = 7, 8, 9, 10, 15
MAX_FRAME = 512 * 2 ** 20


class Refused(Exception):
    """A request this server will not carry out; the connection stays usable."""

    code = "refused"

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class ProtocolViolation(Refused):
    """A broken frame: the server answers ERROR and closes the connection."""

    code = "protocol"


def _packed(typecode, values):
    """Little-endian bytes of a sequence of numbers ('f' float32, 'd' float64, 'B' uint8)."""
    a = array(typecode, values)
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def _unpacked(typecode, data, what):
    a = array(typecode)
    if len(data) % a.itemsize:
        raise ProtocolViolation("%s: %d bytes is not a whole number of values" % (what, len(data)), what)
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a


class BatchedWorld:
    """E independent envs of one world. Subclasses set the class attributes and the per-env methods."""

    id = "my_task_v0"
    agents = []  # names, e.g. ["robot_0", "robot_1"]
    roles = []  # one per agent
    observation_sizes = []  # one per agent
    observation_fields = None  # optional: one list of names per agent
    action_spaces = []  # one per agent: {"kind": "discrete", "n": 5} or {"kind": "continuous", "low": [...], "high": [...]}
    state_size = 1
    max_cycles = 25
    info_keys = []
    comes_and_goes = False

    def __init__(self, num_envs, auto_reset, options):
        self.num_envs = num_envs
        self.auto_reset = auto_reset
        self.options = options
        self.steps = [0] * num_envs
        self.started = False

    # ---- what a world writes ------------------------------------------------------------------
    def reset_env(self, e, rng):
        raise NotImplementedError

    def step_env(self, e, actions):
        """Advance env e one step; actions[i] is agent i's action (an int, or a list of floats).
        Return (rewards: one float per agent, terminated: bool)."""
        raise NotImplementedError

    def observe(self, e, i):
        raise NotImplementedError

    def state(self, e):
        raise NotImplementedError

    def infos(self, e):
        """The metrics of env e's last step: one float per info key."""
        return [0.0] * len(self.info_keys)

    def is_active(self, e, i):
        return True

    def snapshot(self, e):
        raise Refused("%s does not take snapshots" % self.id)

    def set_state(self, e, snapshot):
        raise Refused("%s does not restore snapshots" % self.id)

    # ---- the batch, as the protocol carries it ------------------------------------------------
    def spec(self):
        spec = {
            "protocol": PROTOCOL, "id": self.id, "agents": self.agents, "roles": self.roles,
            "observation_sizes": self.observation_sizes, "action_spaces": self.action_spaces,
            "state_size": self.state_size, "max_cycles": self.max_cycles, "info_keys": self.info_keys,
            "comes_and_goes": self.comes_and_goes,
        }
        if self.observation_fields is not None:
            spec["observation_fields"] = self.observation_fields
        return spec

    def _env_rng(self, seed, stream):
        import random
        return random.Random("%d:%d" % (seed, stream))

    def _observations(self, envs):
        """Agent-major: agent 0's observations of every env, then agent 1's …; zeros where inactive."""
        parts = []
        for i, size in enumerate(self.observation_sizes):
            values = []
            for e in envs:
                values.extend(self.observe(e, i) if self.is_active(e, i) else [0.0] * size)
            parts.append(_packed("f", values))
        return b"".join(parts)

    def _block(self):
        envs = range(self.num_envs)
        n = len(self.agents)
        state = []
        for e in envs:
            state.extend(self.state(e))
        return self._observations(envs), _packed("f", state), [[self.is_active(e, i) for i in range(n)] for e in envs]

    def _infos(self):
        per_env = [self.infos(e) for e in range(self.num_envs)]
        return b"".join(_packed("d", [per_env[e][k] for e in range(self.num_envs)]) for k in range(len(self.info_keys)))

    def reset_all(self, seed, first_stream):
        self.rngs = [self._env_rng(seed, first_stream + e) for e in range(self.num_envs)]
        for e in range(self.num_envs):
            self.reset_env(e, self.rngs[e])
            self.steps[e] = 0
        self.started = True
        return self._observations_frame(zero_infos=True)

    def _observations_frame(self, zero_infos=False):
        obs, state, active = self._block()
        infos = _packed("d", [0.0] * (len(self.info_keys) * self.num_envs)) if zero_infos else self._infos()
        return obs + state + infos + _packed("B", [int(a) for row in active for a in row])

    def step_all(self, body):
        if not self.started:
            raise Refused("STEP before RESET")
        n = len(self.agents)
        space = self.action_spaces[0]
        if space["kind"] == "discrete":
            flat = _unpacked("i", body, "actions")
            if len(flat) != self.num_envs * n:
                raise ProtocolViolation("STEP: %d actions for %d envs x %d agents" % (len(flat), self.num_envs, n), "actions")
            per_env = [list(flat[e * n:(e + 1) * n]) for e in range(self.num_envs)]
            for e, acts in enumerate(per_env):
                for i, a in enumerate(acts):
                    if not 0 <= a < self.action_spaces[i]["n"]:
                        raise Refused("action %d of %s in env %d is outside Discrete(%d)" % (a, self.agents[i], e, self.action_spaces[i]["n"]), "actions")
        else:
            d = len(space["low"])
            flat = _unpacked("f", body, "actions")
            if len(flat) != self.num_envs * n * d:
                raise ProtocolViolation("STEP: %d action values for %d envs x %d agents x %d" % (len(flat), self.num_envs, n, d), "actions")
            per_env = []
            for e in range(self.num_envs):
                acts = []
                for i in range(n):
                    v = list(flat[(e * n + i) * d:(e * n + i + 1) * d])
                    if any(x != x for x in v):
                        raise Refused("action of %s in env %d has a NaN" % (self.agents[i], e), "actions")
                    lo, hi = self.action_spaces[i]["low"], self.action_spaces[i]["high"]
                    acts.append([min(max(x, lo[k]), hi[k]) for k, x in enumerate(v)])
                per_env.append(acts)
        rewards, terminations, truncations, ended, finals = [], [], [], [], []
        infos = []
        for e in range(self.num_envs):
            was_active = [self.is_active(e, i) for i in range(n)]
            r, terminated = self.step_env(e, per_env[e])
            rewards.extend(r[i] if was_active[i] else 0.0 for i in range(n))
            infos.append(self.infos(e))
            self.steps[e] += 1
            truncated = not terminated and self.steps[e] >= self.max_cycles
            terminations.extend([int(terminated)] * n)
            truncations.extend([int(truncated)] * n)
            ended.append(int(terminated or truncated))
            if (terminated or truncated) and self.auto_reset:
                finals.append(self._observations([e]) + _packed("f", self.state(e)))
                self.reset_env(e, self.rngs[e])
                self.steps[e] = 0
        obs, state, active = self._block()
        info_bytes = b"".join(_packed("d", [infos[e][k] for e in range(self.num_envs)]) for k in range(len(self.info_keys)))
        return (_packed("d", rewards) + info_bytes + obs + state + _packed("B", [int(a) for row in active for a in row])
                + _packed("B", terminations) + _packed("B", truncations) + _packed("B", ended) + b"".join(finals))


def _read_frame(rfile):
    head = rfile.read(4)
    if len(head) < 4:
        return None, None
    (length,) = struct.unpack("<I", head)
    if not 1 <= length <= MAX_FRAME:
        raise ProtocolViolation("a frame says it is %d bytes long" % length, "length")
    data = rfile.read(length)
    if len(data) < length:
        return None, None
    return data[0], data[1:]


def _write_frame(wfile, kind, body=b""):
    wfile.write(struct.pack("<IB", len(body) + 1, kind) + body)
    wfile.flush()


def _json(body, what):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ProtocolViolation("%s is not UTF-8 JSON: %s" % (what, err), what)


def _u32(body, what):
    if len(body) < 4:
        raise ProtocolViolation("%s: needs a u32 env index" % what, "env")
    return struct.unpack_from("<I", body)[0]


class _Connection(socketserver.StreamRequestHandler):
    world_class = None  # set by serve()

    def setup(self):
        super().setup()
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        world = None
        while True:
            try:
                kind, body = _read_frame(self.rfile)
            except ProtocolViolation as err:
                return self._error(err)
            if kind is None or kind == CLOSE:
                return
            try:
                if kind == HELLO:
                    hello = _json(body, "HELLO")
                    if hello.get("protocol") != PROTOCOL:
                        raise ProtocolViolation("the client speaks protocol %r; this server speaks %d" % (hello.get("protocol"), PROTOCOL), "protocol")
                    world = self.world_class(int(hello["num_envs"]), bool(hello["auto_reset"]), hello.get("options") or {})
                    _write_frame(self.wfile, SPEC, json.dumps(world.spec()).encode())
                elif world is None:
                    raise ProtocolViolation("frame type %d before HELLO" % kind, "type")
                elif kind == RESET:
                    if len(body) != 12:
                        raise ProtocolViolation("RESET is 12 bytes (i64 seed, u32 first_stream), got %d" % len(body), "seed")
                    seed, first_stream = struct.unpack("<qI", body)
                    _write_frame(self.wfile, OBSERVATIONS, world.reset_all(seed, first_stream))
                elif kind == STEP:
                    started = time.perf_counter()
                    result = world.step_all(body)
                    server_us = (time.perf_counter() - started) * 1e6
                    _write_frame(self.wfile, STEP_RESULT, struct.pack("<d", server_us) + result)
                elif kind == SNAPSHOT:
                    _write_frame(self.wfile, SNAPSHOT_RESULT, json.dumps(world.snapshot(self._env(world, body))).encode())
                elif kind == SET_STATE:
                    e = self._env(world, body)
                    snapshot = _json(body[4:], "snapshot")
                    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("steps"), int) or not 0 <= snapshot["steps"] < world.max_cycles:
                        raise Refused("snapshot.steps must be an integer in [0, %d)" % world.max_cycles, "snapshot.steps")
                    if not world.started:
                        world.reset_all(0, 0)
                    world.set_state(e, snapshot)
                    world.steps[e] = snapshot["steps"]
                    _write_frame(self.wfile, OBSERVATIONS, world._observations_frame())
                else:
                    raise ProtocolViolation("unknown frame type %d" % kind, "type")
            except Refused as err:
                self._error(err)
                if isinstance(err, ProtocolViolation):
                    return
            except (BrokenPipeError, ConnectionResetError):
                return

    def _env(self, world, body):
        e = _u32(body, "env")
        if e >= world.num_envs:
            raise Refused("env %d is outside [0, %d)" % (e, world.num_envs), "env")
        return e

    def _error(self, err):
        message = {"code": err.code, "message": str(err)}
        if err.field:
            message["field"] = err.field
        try:
            _write_frame(self.wfile, ERROR, json.dumps(message).encode())
        except OSError:
            pass


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def serve(world_class, argv=None):
    """Serve world_class on --listen (tcp://host:port, port 0 for any, or unix:/path) until killed."""
    parser = argparse.ArgumentParser(description="serve %s over fleetmind's remote-world protocol" % world_class.id)
    parser.add_argument("--listen", default="tcp://127.0.0.1:7000", help="tcp://host:port or unix:/path.sock")
    args = parser.parse_args(argv)
    handler = type("Handler", (_Connection,), {"world_class": world_class})
    if args.listen.startswith("tcp://"):
        host, _, port = args.listen[len("tcp://"):].rpartition(":")
        server = _TCPServer((host, int(port)), handler)
        url = "tcp://%s:%d" % (host, server.server_address[1])
    elif args.listen.startswith("unix:"):
        import os
        path = args.listen[len("unix:"):]
        if os.path.exists(path):
            os.unlink(path)
        server = _UnixServer(path, handler)
        url = args.listen
    else:
        parser.error("--listen takes tcp://host:port or unix:/path.sock")
    print("serving %s on %s" % (world_class.id, url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
