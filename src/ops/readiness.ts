import type { SearchIndex } from '../search/search-index.js';
import type { MailDirectory, OutboxStore } from '../store/roles.js';

/** One dependency /readyz probes; `check` resolves when the dependency answers. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown>;
}

/** The result of one probe, as /readyz reports it. */
export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** What /readyz answers: ready only when every check passed and the node is not draining. */
export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * The probes of a Hermod node: the store (reads the outbox length) and the search index (reads
 * the versions of a mailbox that never exists). Both are real round trips to the backend, cheap
 * on every adapter. The outbound queue adds its own probe once it exists.
 */
export function coreChecks(store: (MailDirectory & OutboxStore), search: SearchIndex): ReadinessCheck[] {
  return [
    { name: 'store', check: () => store.outboxLength() },
    { name: 'search', check: () => search.versions('hermod-readyz-probe') },
  ];
}

/** Runs the checks in parallel, each bounded by `timeoutMs`; never throws. */
export async function runChecks(checks: ReadinessCheck[], timeoutMs: number, draining: boolean): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map((c) => runOne(c, timeoutMs)));
  const report: ReadinessReport = { ready: !draining, draining, checks: {} };
  checks.forEach((c, i) => {
    report.checks[c.name] = results[i];
    if (!results[i].ok) report.ready = false;
  });
  return report;
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - started), error: redact((err as Error).message) };
  } finally {
    clearTimeout(timer);
  }
}

/** Backend errors may quote a connection URL; its user:password part never leaves the process. */
function redact(message: string): string {
  return message.replace(/\/\/[^/@\s]+@/g, '//***@');
}
