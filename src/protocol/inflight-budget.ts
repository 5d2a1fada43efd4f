/**
 * The global budget of DATA bytes in flight (limits.maxInflightBytes), shared by every listener.
 *
 * A message counts its bytes as they arrive and gives them back when its transaction is answered.
 * A new DATA is admitted while the count is under the budget; otherwise it waits, at most
 * `waitMs`, for a transaction to finish. Admission looks at the count, not at the new message's
 * size (unknown until its end): the budget can be exceeded by the messages already admitted, each
 * capped by limits.maxMessageBytes, but no new one starts while it is.
 */
/** One admitted message's part of the budget: it counts its bytes and gives them all back at once. */
export interface BudgetShare {
  /** Counts `n` more bytes of the message. */
  add(n: number): void;
  /** Gives back every byte counted and wakes the DATA commands waiting for room (once). */
  release(): void;
}

export class InflightBudget {
  private used = 0;
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly maxBytes: number,
    private readonly waitMs: number,
  ) {}

  /** Bytes of the messages in flight now. */
  get bytes(): number {
    return this.used;
  }

  /**
   * Resolves with the message's share once there is room (at once when there is), or null after
   * `waitMs` without room.
   */
  async admit(): Promise<BudgetShare | null> {
    const deadline = Date.now() + this.waitMs;
    while (this.used >= this.maxBytes) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await this.released(left);
    }
    let counted = 0;
    return {
      add: (n) => {
        counted += n;
        this.used += n;
      },
      release: () => {
        this.used = Math.max(0, this.used - counted);
        counted = 0;
        for (const wake of [...this.waiting]) wake();
      },
    };
  }

  /** Resolves on the next release, or after `ms`. */
  private released(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiting.add(wake);
    });
  }
}
