/**
 * Group commit: deliveries that arrive while the event loop is busy are written in one SQLite
 * transaction, so concurrent sessions share one fsync instead of queueing for one each. Every
 * caller still resolves only after the commit that holds its delivery is durable: `durable`,
 * when given, is awaited after the batch's commit (the fsync then runs off the event loop, see
 * WalSync) and a failure there fails the whole batch.
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  /** @param writeMany writes a batch in one commit; per-item Errors reject only that item */
  constructor(
    private readonly writeMany: (items: T[]) => (R | Error)[],
    private readonly maxBatch = 256,
    private readonly durable?: () => Promise<void>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let results: (R | Error)[];
      try {
        results = this.writeMany(batch.map((p) => p.item));
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      if (!this.durable) {
        settle(batch, results);
        continue;
      }
      this.durable().then(
        () => settle(batch, results),
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      );
    }
  }
}

/** Resolves or rejects each caller of a written batch with its own result. */
function settle<R>(batch: { resolve: (r: R) => void; reject: (e: unknown) => void }[], results: (R | Error)[]): void {
  batch.forEach((p, i) => {
    const r = results[i];
    if (r instanceof Error) p.reject(r);
    else p.resolve(r);
  });
}
