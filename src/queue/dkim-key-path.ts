import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { domainToASCII } from 'node:url';
import { InputError } from '../errors.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** DNS labels (underscore allowed, as in many published selectors), at most 63 characters in all. */
const SELECTOR = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*$/i;

/**
 * The A-label form of a signing domain (IDNA: `bücher.example` → `xn--bcher-kva.example`), lower
 * case, or null when it is not a domain name. The name becomes a directory under keyDir and, for
 * the signer, comes from a From header anyone can write, so `/`, `\`, `..` and NUL are refused
 * before any other check.
 */
export function dkimDomain(input: string): string | null {
  if (input.length === 0 || input.length > 253 || /[/\\\0]/.test(input) || input.includes('..')) return null;
  const ascii = domainToASCII(input.toLowerCase().replace(/\.$/, ''));
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label)) || /^\d+$/.test(labels[labels.length - 1])) return null;
  return ascii;
}

/** Like {@link dkimDomain}, for operator input: InputError naming the domain when it is not one. */
export function checkDkimDomain(input: string): string {
  const domain = dkimDomain(input);
  if (!domain) throw new InputError(`invalid domain "${input}": must be a domain name like example.org (IDNA allowed)`);
  return domain;
}

/** A selector as DKIM puts it in DNS (`SELECTOR._domainkey.DOMAIN`) and Hermod in a file name. */
export function checkSelector(selector: string): string {
  if (selector.length > 63 || !SELECTOR.test(selector)) {
    throw new InputError(`invalid selector "${selector}": DNS labels of letters, digits, '-' and '_', at most 63 characters`);
  }
  return selector;
}

/**
 * `<dir>/<domain>`, after checking that it lies inside `dir`, lexically and, when both exist, with
 * symbolic links followed (a link planted under keyDir must not lead the signer elsewhere).
 * @throws InputError when it does not
 */
export function domainFolder(dir: string, domain: string): string {
  const root = resolve(dir);
  const folder = resolve(root, domain);
  if (!inside(root, folder)) throw new InputError(`DKIM key path for "${domain}" leaves dkim.keyDir`);
  const real = realOrNull(folder);
  const realRoot = realOrNull(root);
  if (real && realRoot && !inside(realRoot, real)) throw new InputError(`DKIM key path for "${domain}" leaves dkim.keyDir`);
  return folder;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
