import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { StsPolicy } from './mta-sts-fetch.js';

const MODES: readonly string[] = ['enforce', 'testing', 'none'];

/**
 * The MTA-STS cache on disk, so a restart does not forget the policies that protect the next
 * connection (RFC 8461 §10.2: the cache is what defeats a downgrade on the path). One JSON file,
 * rewritten whole (temporary file, then rename) after each fetch, which is rare; entries that
 * are malformed or expired are skipped when it is read.
 */
export class MtaStsCacheFile {
  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  /** The unexpired policies by domain; a missing or unreadable file gives none (and a warning). */
  load(now: number): Map<string, StsPolicy> {
    const out = new Map<string, StsPolicy>();
    let entries: unknown;
    try {
      entries = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file: this.file, err: (err as Error).message }, 'mta-sts: cache file unreadable; starting empty');
      return out;
    }
    if (!Array.isArray(entries)) return out;
    for (const entry of entries as [unknown, unknown][]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !isPolicy(entry[1]) || entry[1].expiresAt <= now) continue;
      out.set(entry[0], entry[1]);
    }
    return out;
  }

  /** Writes the whole cache; a failure is logged, and the policies stay in memory. */
  save(policies: Map<string, StsPolicy>): void {
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(temporary, JSON.stringify([...policies]));
      renameSync(temporary, this.file);
    } catch (err) {
      this.log.warn({ file: this.file, err: (err as Error).message }, 'mta-sts: cache file not written');
    }
  }
}

function isPolicy(value: unknown): value is StsPolicy {
  const p = value as Partial<StsPolicy> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.id === 'string' &&
    MODES.includes(p.mode as string) &&
    Array.isArray(p.mx) &&
    p.mx.every((m) => typeof m === 'string') &&
    Number.isFinite(p.maxAge) &&
    Number.isFinite(p.fetchedAt) &&
    Number.isFinite(p.expiresAt)
  );
}
