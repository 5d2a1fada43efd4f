/**
 * Group commit: deliveries that arrive while the event loop is busy are written in one SQLite
 * transaction, so concurrent sessions share one fsync instead of queueing for one each. Every
 * caller still resolves only after the commit that holds its delivery is durable: `durable`,
 * when given, is awaited after the batch's commit (the fsync then runs off the event loop, see
 * WalSync) and a failure there fails the whole batch.
 *
 * With `durable`, items that arrive while its fsync runs are held and committed together as soon
 * as it returns. They could not be acknowledged before the next fsync anyway, and one larger
 * commit writes far fewer WAL pages per item than a commit per event-loop turn (shared pages: the
 * header, the rightmost leaves of every index, the AUTOINCREMENT counter).
 */
/** A caller waiting for its item's commit. */
interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  private pending: Pending<T, R>[] = [];
  private scheduled = false;
  /** True while this instance's durability step runs; new items wait for it to end. */
  private syncing = false;

  /** @param writeMany writes a batch in one commit; per-item Errors reject only that item */
  constructor(
    private readonly writeMany: (items: T[]) => (R | Error)[],
    private readonly maxBatch = 256,
    private readonly durable?: () => Promise<void>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const written: { batch: Pending<T, R>[]; results: (R | Error)[] }[] = [];
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        written.push({ batch, results: this.writeMany(batch.map((p) => p.item)) });
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    if (!this.durable) {
      for (const { batch, results } of written) settle(batch, results);
      return;
    }
    if (written.length === 0) return;
    this.syncing = true;
    this.durable()
      .then(
        () => {
          for (const { batch, results } of written) settle(batch, results);
        },
        (err: unknown) => {
          for (const { batch } of written) for (const p of batch) p.reject(err);
        },
      )
      .finally(() => {
        this.syncing = false;
        // What arrived during the fsync is committed now, and its own fsync starts at once.
        if (this.pending.length > 0 && !this.scheduled) this.flush();
      });
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
