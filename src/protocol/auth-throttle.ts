/**
 * Counts failed logins per client address and per user name within a sliding window; past
 * either limit further attempts are refused without a password check (454 4.7.0), so guessing
 * is slow whether one address tries many users or many addresses try one user.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: { perClient: number; perUser: number; windowMs: number },
  ) {}

  /** True when the client or the user has used up its failures. */
  blocked(client: string, user: string, now = Date.now()): boolean {
    return this.count(`c:${client}`, now) >= this.limits.perClient || this.count(`u:${user.toLowerCase()}`, now) >= this.limits.perUser;
  }

  fail(client: string, user: string, now = Date.now()): void {
    for (const key of [`c:${client}`, `u:${user.toLowerCase()}`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.failures.set(key, list);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  private count(key: string, now: number): number {
    return this.recent(key, now).length;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) if (list.every((t) => now - t >= this.limits.windowMs)) this.failures.delete(key);
  }
}
