/**
 * Drives a server with Postfix's smtp-source for a time budget.
 *
 * smtp-source takes a message count, not a duration. To keep the count exact (every message that
 * counts was answered with 250 and smtp-source exited 0), the load runs as consecutive batches:
 * a short pilot batch measures the rate, then each following batch is sized from the latest rate to
 * fill the remaining time (at most `maxBatchSeconds` (2 s) each, so a wrong estimate cannot overshoot
 * much) until the budget is used up. Between batches all sessions end and restart, which costs a
 * few milliseconds per batch; with ~5–8 batches per case that tail is small and is included in
 * the measured wall time, not hidden.
 */
import { spawn } from 'node:child_process';
import { findTool } from './net-util.js';

/** One load case. */
export interface SourceOptions {
  host: string;
  port: number;
  /** Speak LMTP (-L) instead of SMTP. */
  lmtp: boolean;
  /** Parallel sessions (-s). */
  sessions: number;
  /** Payload bytes per message, excluding smtp-source's headers (-l). */
  size: number;
  /** Envelope sender (-f). */
  from: string;
  /** Envelope recipient (-t). */
  to: string;
  /** Minimum wall seconds of load. */
  seconds: number;
  /** Keep connections open and send the next message over them (-d); false reconnects per message. */
  reuseConnections: boolean;
  /** Upper bound on one batch's expected duration. @defaultValue 2 */
  maxBatchSeconds?: number;
  /** Called after every batch (progress output). */
  onBatch?: (batch: BatchResult, totalMessages: number, elapsed: number) => void;
}

/** One smtp-source invocation. */
export interface BatchResult {
  messages: number;
  seconds: number;
}

/** A whole case. */
export interface SourceResult {
  messages: number;
  seconds: number;
  batches: BatchResult[];
  /** The smtp-source command line of the last batch (only -m differs between batches). */
  command: string;
}

/** Builds the smtp-source argument list for one batch of `count` messages. */
export function sourceArgs(opts: SourceOptions, count: number): string[] {
  const args = ['-s', String(opts.sessions), '-m', String(count), '-l', String(opts.size)];
  args.push('-f', opts.from, '-t', opts.to, '-M', 'bench.source.test');
  if (opts.lmtp) args.push('-L');
  if (opts.reuseConnections) args.push('-d');
  args.push(`inet:${opts.host}:${opts.port}`);
  return args;
}

/**
 * Runs one smtp-source batch to completion.
 * @throws when smtp-source exits non-zero (it aborts on any unexpected reply, since -A is not used).
 */
export function runBatch(opts: SourceOptions, count: number): Promise<BatchResult> {
  const bin = findTool('smtp-source');
  const args = sourceArgs(opts, count);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ messages: count, seconds });
      else {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        reject(new Error(`smtp-source ${args.join(' ')} failed (${how}): ${output.trim() || '(no output)'}`));
      }
    });
  });
}

/** Size of the next batch from the latest observed rate and the time still to fill. */
function nextBatchSize(rate: number, remaining: number, opts: SourceOptions): number {
  const maxBatch = opts.maxBatchSeconds ?? 2;
  const target = Math.min(Math.max(remaining, 0.5), maxBatch);
  return Math.max(opts.sessions * 5, Math.ceil(rate * target));
}

/** Runs batches until at least `opts.seconds` of wall time is spent; counts are exact. */
export async function runForDuration(opts: SourceOptions): Promise<SourceResult> {
  const batches: BatchResult[] = [];
  let messages = 0;
  let count = opts.sessions * 10; // pilot
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < opts.seconds) {
    const batch = await runBatch(opts, count);
    batches.push(batch);
    messages += batch.messages;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    opts.onBatch?.(batch, messages, elapsed);
    count = nextBatchSize(batch.messages / batch.seconds, opts.seconds - elapsed, opts);
  }
  const last = batches[batches.length - 1]?.messages ?? count;
  const command = `${findTool('smtp-source')} ${sourceArgs(opts, last).join(' ')}`;
  return { messages, seconds: elapsed, batches, command };
}
