import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, NotFoundError } from '../errors.js';
import { checkDkimDomain, checkSelector, dkimDomain, domainFolder } from './dkim-key-path.js';
import { txtRecord, type DkimAlgorithm, type DkimKey } from './dkim-record.js';

export { txtRecord, type DkimAlgorithm, type DkimKey } from './dkim-record.js';

/** A key on disk as `hermod dkim list` shows it. */
export interface DkimKeyInfo {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** RSA modulus length; absent for Ed25519. */
  bits?: number;
  /** This key signs the domain's outbound mail. */
  active: boolean;
  file: string;
  created: Date;
}

export interface GenerateOptions {
  /** @defaultValue "rsa" */
  algorithm?: DkimAlgorithm;
  /** RSA key size, 1024 to 4096. @defaultValue 2048 */
  bits?: number;
}

export const RSA_MIN_BITS = 1024;
export const RSA_MAX_BITS = 4096;
export const RSA_DEFAULT_BITS = 2048;

/** Names the active selector of a domain; no `.pem` ending, so it is never taken for a key. */
const ACTIVE_FILE = 'active-selector';

/**
 * DKIM keys on disk, one directory per domain: `<dir>/<domain>/<selector>.pem` (PKCS#8, mode 0600)
 * and `active-selector`, naming the key that signs. A new key starts inactive, so nothing is
 * signed with it before its TXT record can exist; `activate` switches signing over, and the
 * previous key stays on disk (its TXT record keeps verifying mail in transit) until `remove`.
 *
 * A domain folder without `active-selector` was written before keys had states: its newest key
 * signs, as it did then, until a key is activated.
 */
export class DkimKeys {
  private readonly cache = new Map<string, { stamp: string; key: DkimKey | null }>();

  constructor(private readonly dir: string) {}

  /** Creates an inactive key and returns it with the TXT record to publish. */
  generate(domainInput: string, selectorInput: string, options: GenerateOptions = {}): { key: DkimKey; file: string; record: string } {
    const algorithm = options.algorithm ?? 'rsa';
    const bits = checkKeySize(algorithm, options.bits);
    const domain = checkDkimDomain(domainInput);
    const selector = checkSelector(selectorInput);
    const folder = domainFolder(this.dir, domain);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Keys from before key states keep their meaning: the newest one goes on signing.
    if (this.readActive(folder) === undefined) this.writeActive(folder, this.newestSelector(folder) ?? '');
    const file = join(folder, `${selector}.pem`);
    const pair = algorithm === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits! }) : generateKeyPairSync('ed25519');
    const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(file, privateKey, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new InputError(`${domain} already has a key with selector "${selector}" (pick another --selector)`);
      }
      throw err;
    }
    const key = { domain, selector, privateKey, algorithm };
    return { key, file, record: txtRecord(key) };
  }

  /** The keys of a domain, oldest first. */
  list(domainInput: string): DkimKeyInfo[] {
    const domain = checkDkimDomain(domainInput);
    const folder = domainFolder(this.dir, domain);
    const active = this.activeSelector(folder);
    return this.selectors(folder)
      .map((selector) => {
        const file = join(folder, `${selector}.pem`);
        const key = createPrivateKey(readFileSync(file, 'utf8'));
        const algorithm: DkimAlgorithm = key.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa';
        const bits = key.asymmetricKeyDetails?.modulusLength;
        return { domain, selector, algorithm, ...(bits ? { bits } : {}), active: selector === active, file, created: statSync(file).mtime };
      })
      .sort((a, b) => a.created.getTime() - b.created.getTime() || (a.selector < b.selector ? -1 : 1));
  }

  /** One key by selector, or NotFoundError. */
  get(domainInput: string, selectorInput: string): DkimKey {
    const domain = checkDkimDomain(domainInput);
    const selector = checkSelector(selectorInput);
    const key = this.read(domainFolder(this.dir, domain), domain, selector);
    if (!key) throw new NotFoundError(`no DKIM key "${selector}" for ${domain} (see: hermod dkim list ${domain})`);
    return key;
  }

  /** Makes `selector` the key that signs for the domain; returns the selector it replaces. */
  activate(domainInput: string, selectorInput: string): { previous: string | null } {
    const key = this.get(domainInput, selectorInput);
    const folder = domainFolder(this.dir, key.domain);
    const previous = this.activeSelector(folder);
    this.writeActive(folder, key.selector);
    this.cache.delete(key.domain);
    return { previous: previous === key.selector ? null : previous };
  }

  /** Deletes an inactive key; the active one must be replaced first (InputError). */
  remove(domainInput: string, selectorInput: string): { file: string } {
    const key = this.get(domainInput, selectorInput);
    const folder = domainFolder(this.dir, key.domain);
    if (this.activeSelector(folder) === key.selector) {
      throw new InputError(`"${key.selector}" signs for ${key.domain}; activate another key before removing it`);
    }
    const file = join(folder, `${key.selector}.pem`);
    rmSync(file);
    this.cache.delete(key.domain);
    return { file };
  }

  /**
   * The active key of the domain, or null (also for a name that is not a domain: it comes from a
   * From header). Rereads when the domain folder or its active-selector changed, so a running
   * server follows `hermod dkim activate` without a restart.
   */
  forDomain(input: string): DkimKey | null {
    const domain = dkimDomain(input);
    if (!domain) return null;
    let folder: string;
    try {
      folder = domainFolder(this.dir, domain);
    } catch {
      return null;
    }
    const stamp = `${fileStamp(folder)}/${fileStamp(join(folder, ACTIVE_FILE))}`;
    const cached = this.cache.get(domain);
    if (cached?.stamp === stamp) return cached.key;
    const selector = this.activeSelector(folder);
    const key = selector ? this.read(folder, domain, selector) : null;
    this.cache.set(domain, { stamp, key });
    return key;
  }

  private read(folder: string, domain: string, selector: string): DkimKey | null {
    let privateKey: string;
    try {
      privateKey = readFileSync(join(folder, `${selector}.pem`), 'utf8');
    } catch {
      return null;
    }
    const algorithm: DkimAlgorithm = createPrivateKey(privateKey).asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa';
    return { domain, selector, privateKey, algorithm };
  }

  /** The selector that signs: the one named in active-selector, else (older folders) the newest. */
  private activeSelector(folder: string): string | null {
    const named = this.readActive(folder);
    if (named !== undefined) return named || null;
    return this.newestSelector(folder);
  }

  /** The content of active-selector ('' when no key is active), or undefined when there is none. */
  private readActive(folder: string): string | undefined {
    try {
      return readFileSync(join(folder, ACTIVE_FILE), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Written beside and renamed over, so a reader sees the old or the new selector, never half. */
  private writeActive(folder: string, selector: string): void {
    const temp = join(folder, `.${ACTIVE_FILE}.${process.pid}`);
    writeFileSync(temp, selector ? `${selector}\n` : '', { mode: 0o600 });
    renameSync(temp, join(folder, ACTIVE_FILE));
  }

  private selectors(folder: string): string[] {
    try {
      return readdirSync(folder)
        .filter((f) => f.endsWith('.pem'))
        .map((f) => f.slice(0, -4));
    } catch {
      return [];
    }
  }

  private newestSelector(folder: string): string | null {
    const newest = this.selectors(folder)
      .map((s) => ({ s, t: statSync(join(folder, `${s}.pem`)).mtimeMs }))
      .sort((a, b) => b.t - a.t || (a.s < b.s ? 1 : -1))[0];
    return newest?.s ?? null;
  }
}

/**
 * The RSA size to generate, or undefined for Ed25519. RFC 8301 forbids RSA keys under 1024 bits;
 * over 4096 only costs time (a 100,000-bit key takes hours to generate) and does not fit a TXT record.
 */
export function checkKeySize(algorithm: DkimAlgorithm, bits: number | undefined): number | undefined {
  if (algorithm === 'ed25519') {
    if (bits !== undefined) throw new InputError('--bits applies to RSA keys only (Ed25519 keys have one size)');
    return undefined;
  }
  const size = bits ?? RSA_DEFAULT_BITS;
  if (!Number.isInteger(size) || size < RSA_MIN_BITS || size > RSA_MAX_BITS || size % 8 !== 0) {
    throw new InputError(`--bits ${size}: RSA keys must be ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits, a multiple of 8 (RFC 8301)`);
  }
  return size;
}

/** Inode and change time: a rename over the file gives a new inode even within one clock tick. */
function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.mtimeMs}`;
  } catch {
    return '-';
  }
}
