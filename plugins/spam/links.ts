/**
 * Link evidence: the hosts a message links to (HTML hrefs and bare URLs in the text), IP-literal
 * hosts, shorteners, and anchor texts naming another domain than their target. Linear: URLs are
 * found with indexOf and bounded character runs, never with backtracking patterns.
 */
import type { HtmlLink } from './html-scan.js';

/** URL shorteners: the target is hidden until the click. */
export const SHORTENERS: ReadonlySet<string> = new Set([
  'bit.ly', 'tinyurl.com', 'goo.gl', 't.co', 'ow.ly', 'is.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly', 'shorturl.at',
  'tiny.cc', 'rb.gy', 'bl.ink', 'v.gd', 'x.co', 'snipurl.com', 'shorl.com', 'makeashorterlink.com', 'lnkd.in', 'db.tt',
]);

/** Most URLs read per message. */
const MAX_URLS = 500;
/** Longest URL read. */
const MAX_URL = 2048;

const URL_END = new Set([' ', '\t', '\r', '\n', '"', "'", '<', '>', '(', ')', '[', ']', '{', '}', '|', '\\', '^', '`']);

/** The host of an http(s)/ftp URL, lower case, without port, user info or a trailing dot; '' if none. */
export function urlHost(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme < 0 || scheme > 10) return '';
  const proto = url.slice(0, scheme).toLowerCase();
  if (proto !== 'http' && proto !== 'https' && proto !== 'ftp') return '';
  let rest = url.slice(scheme + 3, scheme + 3 + 300);
  for (const stop of ['/', '?', '#']) {
    const at = rest.indexOf(stop);
    if (at >= 0) rest = rest.slice(0, at);
  }
  rest = rest.slice(rest.lastIndexOf('@') + 1);
  if (rest.startsWith('[')) return rest.slice(0, rest.indexOf(']') + 1).toLowerCase();
  const colon = rest.indexOf(':');
  return (colon >= 0 ? rest.slice(0, colon) : rest).toLowerCase().replace(/\.$/, '');
}

/** Whether the host is an IP literal: dotted quad, bracketed IPv6, or one decimal/hex number. */
export function isIpLiteral(host: string): boolean {
  if (host.startsWith('[')) return true;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return /^(?:0x[0-9a-f]{1,8}|\d{8,10})$/.test(host);
}

/** The registrable-looking part of a host: its last two labels (three under a two-letter ccTLD's second level). */
export function siteOf(host: string): string {
  if (isIpLiteral(host)) return host;
  const labels = host.split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const tld = labels[labels.length - 1];
  const second = labels[labels.length - 2];
  const take = tld.length === 2 && second.length <= 3 ? 3 : 2;
  return labels.slice(-take).join('.');
}

const TRAILING_PUNCTUATION = new Set(['.', ',', ';', ':', '!', '?']);

/**
 * Where a bare URL may start, in any case. Two literals tried at each position: linear, and no
 * lower-case copy of the whole text is made to search it.
 */
const URL_START = /http|www\./gi;

/** Bare URLs in text (`http://…`, `https://…`, `www.…`), found by scanning; at most MAX_URLS. */
export function textUrls(text: string): string[] {
  const urls: string[] = [];
  URL_START.lastIndex = 0;
  while (urls.length < MAX_URLS) {
    const start = URL_START.exec(text);
    if (start === null) break;
    const at = start.index;
    let end = at;
    while (end < text.length && end - at < MAX_URL && !URL_END.has(text[end])) end++;
    while (end > at && TRAILING_PUNCTUATION.has(text[end - 1])) end--;
    const url = text.slice(at, end);
    if (start[0].endsWith('.')) urls.push(`http://${url}`);
    else if (url.includes('://')) urls.push(url);
    URL_START.lastIndex = Math.max(end, at + 4);
  }
  return urls;
}

/** A domain named in a link text (`www.bank.example`, `http://bank.example/…`, `bank.example`), or ''. */
export function domainInText(text: string): string {
  const urls = textUrls(text);
  if (urls.length > 0) return urlHost(urls[0]);
  const word = text.trim();
  if (word.length > 100 || /\s/.test(word)) return '';
  return /^[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,5}\.[a-z]{2,10}$/i.test(word) ? word.toLowerCase() : '';
}

/** What the links of a message show. */
export interface LinkEvidence {
  /** Distinct sites (siteOf) linked to. */
  sites: string[];
  ipLiteral: boolean;
  shortener: boolean;
  /** An anchor's text names a site other than its target's. */
  textMismatch: boolean;
}

/** Link evidence from the HTML links and the text's bare URLs. */
export function linkEvidence(htmlLinks: readonly HtmlLink[], text: string): LinkEvidence {
  const hosts = [...htmlLinks.map((l) => urlHost(l.href)), ...textUrls(text).map(urlHost)].filter(Boolean);
  let textMismatch = false;
  for (const link of htmlLinks) {
    const target = urlHost(link.href);
    const named = domainInText(link.text);
    if (target && named && siteOf(named) !== siteOf(target)) textMismatch = true;
  }
  return {
    sites: [...new Set(hosts.map(siteOf))],
    ipLiteral: hosts.some(isIpLiteral),
    shortener: hosts.some((h) => SHORTENERS.has(h)),
    textMismatch,
  };
}
