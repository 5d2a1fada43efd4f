/**
 * Values a node keeps for a short while instead of reading them again: each for `ttlMs` after it
 * was set (a `ttlMs` of 0 keeps nothing), at most `capacity` of them, the one set longest ago
 * dropped first. The Cassandra store's caches of found addresses, mailbox rows and Bayes totals,
 * and the writer's memory of a just-found absence, are all this.
 */
export class RecentValues<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly capacity: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The value set for the key within the last `ttlMs`, or undefined. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.clock()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.clock() + this.ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Like get, and forgets the key either way (a value meant to be used once). */
  take(key: string): V | undefined {
    const value = this.get(key);
    this.entries.delete(key);
    return value;
  }
}
