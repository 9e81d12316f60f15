// Which peers are alive, decided by application heartbeats (MQTT keepalive takes seconds to
// notice a lost link). Any message from a peer also proves it alive; an OFFLINE heartbeat (a
// graceful stop, or the broker publishing the last will) ends it at once.

export class PeerLiveness {
  private readonly lastSeen = new Map<string, number>();

  constructor(readonly peers: readonly string[], private readonly timeoutMs: number, private readonly now: () => number = () => performance.now()) {}

  heard(peer: string): void {
    this.lastSeen.set(peer, this.now());
  }

  wentOffline(peer: string): void {
    this.lastSeen.delete(peer);
  }

  isLive(peer: string): boolean {
    const seen = this.lastSeen.get(peer);
    return seen !== undefined && this.now() - seen <= this.timeoutMs;
  }

  live(): string[] {
    return this.peers.filter((p) => this.isLive(p));
  }
}
