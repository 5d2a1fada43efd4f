/**
 * What property tests on Hermod's input paths check after every generated input: each line the
 * server wrote is a well-formed reply, the session ended with an answer or a clean close, no
 * promise was left rejected, and the listener still delivers a plain message afterwards.
 */
import { connect } from 'node:net';
import { expect } from 'vitest';
import { sampleMessage, type Harness } from './hermod-harness.js';
import { lmtpTransaction } from './lmtp-session.js';

/**
 * Fast-check settings shared by the property files: a run count small enough for a loaded CI
 * machine; on failure fast-check prints the seed and path. HERMOD_PROPERTY_SEED replays a seed;
 * HERMOD_PROPERTY_RUNS runs longer when hunting.
 */
export function propertyParameters(numRuns: number): { numRuns: number; seed?: number; verbose: number } {
  const seed = process.env.HERMOD_PROPERTY_SEED ? Number(process.env.HERMOD_PROPERTY_SEED) : undefined;
  const runs = process.env.HERMOD_PROPERTY_RUNS ? Number(process.env.HERMOD_PROPERTY_RUNS) : numRuns;
  return { numRuns: runs, seed, verbose: 1 };
}

/** Collects every unhandled rejection and uncaught exception while installed. */
export function watchProcessFaults(): { faults: string[]; uninstall(): void } {
  const faults: string[] = [];
  const onRejection = (reason: unknown) => faults.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (err: Error) => faults.push(`uncaughtException: ${err.stack ?? String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    faults,
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** The bytes a server wrote on one connection, and whether it closed the connection. */
export interface WireExchange {
  lines: string[];
  /** Bytes after the last CRLF (a reply cut short). */
  tail: string;
  closedByServer: boolean;
}

/**
 * Connects, waits for the greeting (a client that talks first is refused, rightly), writes
 * `input` at once as a pipelining client would, and reads until the server closes or `quietMs`
 * pass without a byte once `done(lines)` holds. `preamble` goes out before the greeting (a PROXY
 * header). Never throws on a reset.
 */
export function exchange(
  port: number,
  input: Buffer,
  options: { done?: (lines: string[]) => boolean; quietMs?: number; maxMs?: number; preamble?: Buffer } = {},
): Promise<WireExchange> {
  const { done = () => false, quietMs = 300, maxMs = 8000, preamble } = options;
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    let finished = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(quiet);
      clearTimeout(limit);
      socket.destroy();
      const lines = text.split('\r\n');
      const tail = lines.pop() ?? '';
      resolve({ lines, tail, closedByServer });
    };
    const limit = setTimeout(() => finish(false), maxMs);
    const armQuiet = () => {
      clearTimeout(quiet);
      if (done(text.split('\r\n').slice(0, -1))) quiet = setTimeout(() => finish(false), quietMs);
    };
    let sent = false;
    socket.on('connect', () => {
      if (preamble) socket.write(preamble);
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!sent && text.includes('\r\n')) {
        sent = true;
        if (text.startsWith('220')) socket.write(input);
      }
      armQuiet();
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/**
 * Why a reply line is not well-formed, or null. Every line is `NNN[ -]text` with a code in
 * 2xx–5xx; a 4xx/5xx line carries an RFC 3463 enhanced code (RFC 2034), except the greeting and
 * the reply to EHLO/LHLO, which RFC 2034 leaves without one.
 */
export function replyLineProblem(line: string, enhancedRequired: boolean): string | null {
  const m = /^([2-5]\d\d)([ -])(.*)$/s.exec(line);
  if (!m) return `not a reply line: ${JSON.stringify(line.slice(0, 200))}`;
  if (enhancedRequired && /^[45]/.test(m[1]) && !/^[45]\.\d{1,3}\.\d{1,3}(?: |$)/.test(m[3])) {
    return `no enhanced status code: ${JSON.stringify(line.slice(0, 200))}`;
  }
  return null;
}

/**
 * Asserts every line of a session is a well-formed reply. `exempt` says which replies (by index,
 * the greeting being 0) may lack an enhanced code: by default only the greeting.
 */
export function expectWellFormed(ex: WireExchange, context: unknown, exempt: boolean[] | (() => boolean) = [true]): void {
  const isExempt = (i: number) => (typeof exempt === 'function' ? exempt() : exempt[i] === true);
  const problems: string[] = [];
  let reply = 0;
  for (const line of ex.lines) {
    const problem = replyLineProblem(line, !isExempt(reply));
    if (problem) problems.push(problem);
    if (line[3] !== '-') reply++;
  }
  if (ex.tail) problems.push(`reply cut short: ${JSON.stringify(ex.tail.slice(0, 200))}`);
  expect({ problems, context }).toEqual({ problems: [], context });
}

/** The code of the last complete reply (its last line), or undefined. */
export function lastCode(ex: WireExchange): number | undefined {
  const last = ex.lines.at(-1);
  return last ? Number(last.slice(0, 3)) : undefined;
}

/** A plain LMTP delivery to alice@example.test, which must be accepted. */
export async function expectCleanDelivery(lmtpPort: number, subject: string): Promise<void> {
  const result = await lmtpTransaction(lmtpPort, {
    from: 'bob@remote.test',
    to: ['alice@example.test'],
    message: sampleMessage(subject),
  });
  expect(result.data.map((r) => r.code)).toEqual([250]);
}

/** True when a server with an open connection still greets a new one. */
export async function greets(port: number): Promise<boolean> {
  const ex = await exchange(port, Buffer.from('QUIT\r\n'), { done: (l) => l.some((x) => x.startsWith('221')) });
  return ex.lines[0]?.startsWith('220') === true;
}

/** Log lines at error level or above: hostile input is expected, an internal failure is not. */
export function loggedErrors(logs: Record<string, unknown>[]): unknown[] {
  return logs.filter((l) => typeof l.level === 'number' && l.level >= 50).map((l) => ({ msg: l.msg, err: (l.err as { message?: string })?.message }));
}

/**
 * What every property file checks after each property: no unhandled rejection or uncaught
 * exception, no error-level log line on any server, and each server still delivers a plain message.
 */
export async function expectServersUnharmed(faults: string[], servers: Harness[]): Promise<void> {
  expect(faults).toEqual([]);
  for (const server of servers) expect(loggedErrors(server.logs)).toEqual([]);
  for (const server of servers) await expectCleanDelivery(server.lmtpPort, 'after the properties');
}
