import type { SMTPServerDataStream } from 'smtp-server';

/**
 * What every DATA handler shares: it tracks the messages it is still working on, so a graceful
 * shutdown can wait for their replies, and it reads a message with a cap on what it keeps.
 */
export class InFlightWork {
  private readonly work = new Set<Promise<void>>();

  /** True while a message is being processed. */
  get busy(): boolean {
    return this.work.size > 0;
  }

  /** Resolves once every message in progress has been answered (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Runs `task` and keeps it tracked until it settles. */
  track(task: Promise<void>): void {
    this.work.add(task);
    void task.finally(() => this.work.delete(task));
  }
}

/** Reads the message; past `maxBytes` the rest is drained, not kept (it will be refused). */
export function readMessage(stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    stream.on('data', (chunk: Buffer) => {
      if (kept > maxBytes) return;
      kept += chunk.length;
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
