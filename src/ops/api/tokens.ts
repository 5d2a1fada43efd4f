import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, NotFoundError } from '../../errors.js';
import { SCOPES, type Scope } from './scopes.js';

/** One admin API token as stored: never the token itself, only its SHA-256. */
export interface TokenRecord {
  /** Public part of the token (`hermod_<id>_…`), for listing and revoking. */
  id: string;
  name: string;
  scopes: Scope[];
  /** Hex SHA-256 of the whole token string. */
  sha256: string;
  createdAt: string;
}

/** What `list` shows: the record without its hash. */
export type TokenInfo = Omit<TokenRecord, 'sha256'>;

const recordSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string(),
  scopes: z.array(z.enum(SCOPES as [Scope, ...Scope[]])),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
});
const fileSchema = z.strictObject({ version: z.literal(1), tokens: z.array(recordSchema) });

/** `hermod_<16 hex id>_<43 base64url characters: 32 random bytes>`. */
const TOKEN = /^hermod_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The admin API's tokens in one JSON file (mode 0600), rewritten atomically (temp file +
 * rename). A token carries 256 random bits, so a plain SHA-256 is enough to make a leaked file
 * useless: there is no password to guess, and a slow hash would only slow every request down.
 * A running server re-reads the file when its modification time changes, so `token revoke`
 * takes effect at the next request without a restart.
 */
export class TokenFile {
  private cache: { mtimeMs: number; size: number; tokens: TokenRecord[] } | undefined;

  constructor(readonly path: string) {}

  /** Creates a token; the returned secret is shown once and never stored. */
  create(scopes: Scope[], name: string, now = new Date()): { token: string; info: TokenInfo } {
    const id = randomBytes(8).toString('hex');
    const token = `hermod_${id}_${randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = { id, name, scopes, sha256: sha256(token), createdAt: now.toISOString() };
    this.write([...this.read(), record]);
    return { token, info: info(record) };
  }

  list(): TokenInfo[] {
    return this.read().map(info);
  }

  /** @throws NotFoundError for an unknown id. */
  revoke(id: string): TokenInfo {
    const tokens = this.read();
    const found = tokens.find((t) => t.id === id);
    if (!found) throw new NotFoundError(`unknown token id "${id}" (see: hermod token list)`);
    this.write(tokens.filter((t) => t !== found));
    return info(found);
  }

  /** The token's record when the presented string is a live token, else null (constant-time compare). */
  verify(presented: string): TokenRecord | null {
    const match = TOKEN.exec(presented);
    if (!match) return null;
    const record = this.current().find((t) => t.id === match[1]);
    if (!record) return null;
    const given = Buffer.from(sha256(presented), 'hex');
    return timingSafeEqual(given, Buffer.from(record.sha256, 'hex')) ? record : null;
  }

  /** The tokens as on disk now, re-read only when the file changed. */
  private current(): TokenRecord[] {
    let stat;
    try {
      stat = statSync(this.path);
    } catch {
      return [];
    }
    if (!this.cache || this.cache.mtimeMs !== stat.mtimeMs || this.cache.size !== stat.size) {
      this.cache = { mtimeMs: stat.mtimeMs, size: stat.size, tokens: this.read() };
    }
    return this.cache.tokens;
  }

  private read(): TokenRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ConfigError(`${this.path}: cannot read the admin token file: ${(err as Error).message}`);
    }
    let parsed;
    try {
      parsed = fileSchema.safeParse(JSON.parse(text));
    } catch {
      throw new ConfigError(`${this.path}: the admin token file is not JSON`);
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`${this.path}: invalid admin token file at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return parsed.data.tokens;
  }

  private write(tokens: TokenRecord[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.path);
    this.cache = undefined;
  }
}

function info(record: TokenRecord): TokenInfo {
  return { id: record.id, name: record.name, scopes: record.scopes, createdAt: record.createdAt };
}

/** The configured token file: `ops.api.tokensFile`, under dataDir when relative. */
export function tokenFilePath(config: { dataDir: string; ops: { api: { tokensFile: string } } }): string {
  const file = config.ops.api.tokensFile;
  return isAbsolute(file) ? file : join(config.dataDir, file);
}
