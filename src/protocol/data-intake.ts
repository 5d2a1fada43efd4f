import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SMTPServerDataStream } from 'smtp-server';
import type { HermodConfig } from '../config/schema.js';
import { InflightBudget } from './inflight-budget.js';
import { MessageSpool } from './message-spool.js';

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

/**
 * Reads the message into memory; past `maxBytes` the rest is drained, not kept (it will be
 * refused). Used by submission, whose messages go to the outbound queue whole; the LMTP and SMTP
 * listeners go through the spool (MessageSpool). `onBytes` is called with the size of every chunk
 * kept (the in-flight budget counts them).
 */
export function readMessage(stream: SMTPServerDataStream, maxBytes: number, onBytes?: (n: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    stream.on('data', (chunk: Buffer) => {
      if (kept > maxBytes) return;
      kept += chunk.length;
      chunks.push(chunk);
      onBytes?.(chunk.length);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** What the listeners share about DATA: one spool (LMTP and SMTP), one in-flight budget (all three). */
export interface MessageIntake {
  spool: MessageSpool;
  budget: InflightBudget;
}

/** The spool under `<dataDir>/spool`, emptied of an earlier run's leftovers, and the budget. */
export async function openIntake(config: HermodConfig, log: Logger): Promise<MessageIntake> {
  const spool = new MessageSpool(join(config.dataDir, 'spool'), config.limits.spoolThresholdBytes);
  const removed = await spool.prepare();
  if (removed > 0) log.warn({ removed, dir: spool.dir }, 'removed DATA spool files left by an earlier run');
  return { spool, budget: new InflightBudget(config.limits.maxInflightBytes, config.limits.inflightWaitMs) };
}
