"""The world side of fleetmind's wire contract, in Python: a reference client for vendors.

It plays a simulator against a running fleet (`fleetmind fleet`, or robots' own agents): for each
tick it publishes every agent's Observation on fm/<fleet>/a/<agent>/obs, waits for each agent's
Action on fm/<fleet>/a/<agent>/act, steps its world with them, and publishes the step's rewards
as a WorldStepRecord on fm/<fleet>/world. Episodes restart the ticks at 0 and raise
Observation.episode (wire 1.2). It needs Debian's python3-protobuf and python3-paho-mqtt (the
generated classes are fleetmind_pb2.py, made by `protoc --python_out` from
runtime/wire/fleetmind.proto). The rules it follows are docs/wire-contract.md.

    fleetmind fleet --bundle runs/rendezvous-bundle --broker mqtt://127.0.0.1:1883 --fleet lab
    python3 examples/remote/fleet_client.py --broker mqtt://127.0.0.1:1883 --fleet lab \\
        --world rendezvous --episodes 3 --hz 10

`FleetClient` is the part to reuse: `step()` sends one tick's observations and returns the
actions that came back in time; a missing one is the caller's to replace (a watchdog would stop
the motors: the safe action).
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import paho.mqtt.client as mqtt
    import fleetmind_pb2 as pb
except ImportError as err:  # say what to install, not a traceback
    sys.exit("fleet_client.py needs python3-paho-mqtt and python3-protobuf (Debian), or pip's paho-mqtt<2 and protobuf>=3.20: %s" % err)

TIERS = {pb.Action.FULL: "full", pb.Action.PARTIAL: "partial", pb.Action.NONE: "none", pb.Action.SAFE: "safe"}


class FleetClient:
    """One MQTT connection that speaks for the world of `agents` in fleet `fleet`."""

    def __init__(self, broker, fleet, agents):
        host, _, port = broker[len("mqtt://"):].rpartition(":")
        self.fleet, self.agents = fleet, list(agents)
        self._actions = {}  # (agent, tick) -> Action
        self._arrived = threading.Condition()
        self.duplicates = 0
        self.client = mqtt.Client(client_id="%s-world-%d" % (fleet, os.getpid()))
        self.client.on_message = self._on_message
        self.client.on_socket_open = lambda client, userdata, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.connect(host, int(port))
        self.client.loop_start()
        for agent in self.agents:
            self.client.subscribe(self.topic(agent, "act"), qos=0)

    def topic(self, agent, channel):
        return "fm/%s/a/%s/%s" % (self.fleet, agent, channel)

    def _on_message(self, client, userdata, message):
        agent = message.topic.split("/")[3]
        action = pb.Action.FromString(message.payload)
        with self._arrived:
            key = (agent, action.tick)
            if key in self._actions:
                self.duplicates += 1  # an agent answers each observation exactly once: count what breaks that
            self._actions[key] = action
            self._arrived.notify_all()

    def step(self, tick, observations, episode=0, timeout=1.0):
        """Publish each agent's observation for `tick`; return {agent: Action} of those that answered within `timeout` s."""
        sent_us = time.time() * 1e6  # a fractional part is fine (rounded)
        for agent, values in observations.items():
            obs = pb.Observation(tick=tick, values=values, sent_us=sent_us, episode=episode)
            self.client.publish(self.topic(agent, "obs"), obs.SerializeToString(), qos=0)
        deadline = time.monotonic() + timeout
        want = set(observations)
        with self._arrived:
            while not all((a, tick) in self._actions for a in want):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return {a: self._actions.pop((a, tick)) for a in want if (a, tick) in self._actions}

    def publish_step(self, episode, tick, rewards):
        record = pb.WorldStepRecord(episode=episode, tick=tick, agents=self.agents, rewards=rewards)
        self.client.publish("fm/%s/world" % self.fleet, record.SerializeToString(), qos=0)

    def stop_fleet(self):
        """Control {command: "stop"} on fm/<fleet>/ctl: `fleetmind fleet` writes its report and exits."""
        info = self.client.publish("fm/%s/ctl" % self.fleet, pb.Control(command="stop").SerializeToString(), qos=1)
        info.wait_for_publish()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def play_rendezvous(client, episodes, hz, timeout, seed):
    """The rendezvous task (rendezvous.py) with its robots driven by the fleet; a missing action is the safe one (stay)."""
    from rendezvous import Rendezvous

    world = Rendezvous(1, False, {"N": len(client.agents)})
    period = 1.0 / hz
    stats = {"ticks": 0, "observations": 0, "actions": 0, "missing": 0, "tiers": {}, "tick_ms": [], "team_returns": []}
    for episode in range(episodes):
        world.reset_env(0, world._env_rng(seed, episode))
        team_return = 0.0
        for tick in range(world.max_cycles):
            started = time.monotonic()
            observations = {agent: world.observe(0, i) for i, agent in enumerate(client.agents)}
            actions = client.step(tick, observations, episode=episode, timeout=timeout)
            stats["tick_ms"].append((time.monotonic() - started) * 1000)
            stats["ticks"] += 1
            stats["observations"] += len(observations)
            stats["actions"] += len(actions)
            stats["missing"] += len(observations) - len(actions)
            for a in actions.values():
                stats["tiers"][TIERS[a.tier]] = stats["tiers"].get(TIERS[a.tier], 0) + 1
            chosen = [actions[agent].action if agent in actions else 0 for agent in client.agents]
            rewards, _ = world.step_env(0, chosen)
            team_return += sum(rewards)
            client.publish_step(episode, tick, rewards)
            time.sleep(max(0.0, period - (time.monotonic() - started)))
        stats["team_returns"].append(team_return)
    return stats


def main(argv=None):
    parser = argparse.ArgumentParser(description="play a world against a fleetmind fleet over MQTT (the wire contract's world side)")
    parser.add_argument("--broker", required=True, help="mqtt://host:port")
    parser.add_argument("--fleet", required=True)
    parser.add_argument("--agents", default="robot_0,robot_1,robot_2", help="comma-separated agent ids (the bundle's)")
    parser.add_argument("--world", choices=["rendezvous"], default="rendezvous")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--hz", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=0.5, help="seconds to wait for a tick's actions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stop-fleet", action="store_true", help="tell the fleet to stop when done")
    args = parser.parse_args(argv)
    client = FleetClient(args.broker, args.fleet, args.agents.split(","))
    try:
        stats = play_rendezvous(client, args.episodes, args.hz, args.timeout, args.seed)
        stats["duplicates"] = client.duplicates
        ms = sorted(stats.pop("tick_ms"))
        stats["tick_ms"] = {"p50": ms[len(ms) // 2], "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))]}
        if args.stop_fleet:
            client.stop_fleet()
    finally:
        client.close()
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
