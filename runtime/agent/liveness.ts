// Which peers are alive, decided by application heartbeats (MQTT keepalive takes seconds to
// notice a lost link). Any message from a peer also proves it alive; an OFFLINE heartbeat (a
// graceful stop, or the broker publishing the last will) ends it at once. A peer on standby (not
// in the episode now: a car that has not entered or has left) is not expected at all: missing its
// messages is no loss, until it speaks again.

export class PeerLiveness {
  private readonly lastSeen = new Map<string, number>();
  private readonly onStandby = new Set<string>();

  constructor(readonly peers: readonly string[], private readonly timeoutMs: number, private readonly now: () => number = () => performance.now()) {}

  heard(peer: string): void {
    this.lastSeen.set(peer, this.now());
    this.onStandby.delete(peer);
  }

  wentOffline(peer: string): void {
    this.lastSeen.delete(peer);
    this.onStandby.delete(peer);
  }

  /** the peer said it is not in the episode now */
  wentOnStandby(peer: string): void {
    this.lastSeen.delete(peer);
    this.onStandby.add(peer);
  }

  /** whether the peer is out of the episode (then a round that misses it has lost nothing) */
  isOnStandby(peer: string): boolean {
    return this.onStandby.has(peer);
  }

  isLive(peer: string): boolean {
    return this.liveAt(peer, this.now());
  }

  live(): string[] {
    return this.peers.filter((p) => this.isLive(p));
  }

  /** whether `test` holds for every live peer (a round checks this at every message: no array, one clock read) */
  everyLive(test: (peer: string) => boolean): boolean {
    const now = this.now();
    for (const peer of this.peers) if (this.liveAt(peer, now) && !test(peer)) return false;
    return true;
  }

  private liveAt(peer: string, now: number): boolean {
    const seen = this.lastSeen.get(peer);
    return seen !== undefined && now - seen <= this.timeoutMs;
  }
}
