import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/** A domain's signing key. */
export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

const SELECTOR = /^[a-z0-9][a-z0-9._-]*$/i;

/**
 * DKIM keys on disk, one directory per domain: `<dir>/<domain>/<selector>.pem` (PKCS#8, mode
 * 0600). The newest key of a domain signs, so a rotation is `hermod dkim generate` with a new
 * selector once its TXT record is published. Keys are read once and cached.
 */
export class DkimKeys {
  private readonly cache = new Map<string, DkimKey | null>();

  constructor(private readonly dir: string) {}

  /** Creates a 2048-bit RSA key and returns it with the TXT record to publish. */
  generate(domain: string, selector: string, bits = 2048): { key: DkimKey; file: string; record: string } {
    if (!SELECTOR.test(selector)) throw new InputError(`invalid selector "${selector}": letters, digits, '.', '_' and '-' only`);
    const name = domain.toLowerCase();
    const folder = join(this.dir, name);
    const file = join(folder, `${selector}.pem`);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('rsa', { modulusLength: bits });
    const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(file, privateKey, { mode: 0o600, flag: 'wx' });
    this.cache.delete(name);
    const key = { domain: name, selector, privateKey };
    return { key, file, record: txtRecord(key) };
  }

  /** The newest key of the domain, or null. */
  forDomain(domain: string): DkimKey | null {
    const name = domain.toLowerCase();
    if (!this.cache.has(name)) this.cache.set(name, this.load(name));
    return this.cache.get(name) ?? null;
  }

  private load(domain: string): DkimKey | null {
    const folder = join(this.dir, domain);
    let files: string[];
    try {
      files = readdirSync(folder).filter((f) => f.endsWith('.pem'));
    } catch {
      return null;
    }
    const newest = files
      .map((f) => ({ f, t: statSync(join(folder, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t || (a.f < b.f ? 1 : -1))[0];
    if (!newest) return null;
    return { domain, selector: newest.f.slice(0, -4), privateKey: readFileSync(join(folder, newest.f), 'utf8') };
  }
}

/** `SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; k=rsa; p=…"`, split into 255-byte strings. */
export function txtRecord(key: DkimKey): string {
  const p = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  const value = `v=DKIM1; k=rsa; p=${p}`;
  const strings = value.match(/.{1,255}/g) ?? [value];
  return `${key.selector}._domainkey.${key.domain}. IN TXT ( ${strings.map((s) => `"${s}"`).join(' ')} )`;
}
