// New connections per remote address: a token bucket per address (burst, then a steady rate).

export class ConnectionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number, private readonly burst: number) {}

  /** Takes a token for this address; false when it is connecting too fast. */
  allow(address: string, now = Date.now()): boolean {
    const b = this.buckets.get(address) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(address, b);
    if (this.buckets.size > 10_000) this.forgetFull(now);
    return ok;
  }

  private forgetFull(now: number): void {
    for (const [addr, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(addr);
    }
  }
}
