import { addressParser, type ParsedMessage } from '../../src/plugin-api.js';
import { mimeTokens } from './mime-tokens.js';
import { domainSuffixes, emailTokens, wordTokens, type Emit } from './text-tokens.js';

/** 0, 1, 2, 3-4, 5-8, 9-16 …: recipient counts by powers of two, so "many" is one token. */
function countBucket(n: number): string {
  if (n <= 2) return String(n);
  return `${2 ** Math.ceil(Math.log2(n)) / 2 + 1}+`;
}

/** Addresses and display-name words of an address header, with `prefix`. */
function addressTokens(values: string[] | undefined, prefix: string, emit: Emit, names: boolean): number {
  if (!values || values.length === 0) return 0;
  const list = addressParser()(values, { flatten: true }).value;
  for (const entry of list) {
    if (entry.address) emailTokens(entry.address, emit, prefix);
    if (!names) continue;
    const name = (entry.name ?? '').trim();
    if (name === '') emit(`${prefix}:no real name`);
    else for (const word of name.split(/\s+/)) wordTokens(word, emit, `${prefix}:name:`);
  }
  return list.length;
}

/** Most characters of one Received header read. */
const MAX_RECEIVED = 4096;

/** A host name with a dotted, alphabetic top label (`mail.example.org`), trailing dots and hyphens trimmed; '' otherwise. */
function hostName(run: string): string {
  let end = run.length;
  while (end > 0 && (run[end - 1] === '.' || run[end - 1] === '-')) end--;
  const host = run.slice(0, end);
  const dot = host.lastIndexOf('.');
  return dot > 0 && /^[a-z]{2,}$/i.test(host.slice(dot + 1)) ? host : '';
}

/** Hosts and client networks named by Received headers: relays are telling, spam sources too. */
function receivedTokens(values: string[], emit: Emit): void {
  for (const value of values) {
    // One bounded run of host characters per from/by; no overlapping quantifiers, so linear.
    for (const match of value.slice(0, MAX_RECEIVED).matchAll(/\b(?:from|by)\s{1,20}([a-z0-9.-]{1,253})/gi)) {
      const host = hostName(match[1]);
      if (host) emit(`received:${domainSuffixes(host)[0]}`);
    }
    for (const match of value.matchAll(/[[(](\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}[\])]/g)) {
      emit(`received:ip:${match[1]}.${match[2]}`);
      emit(`received:ip:${match[1]}.${match[2]}.${match[3]}`);
    }
  }
}

/** The telling parts of a software name: `Microsoft Outlook Express 6.00` → `microsoft outlook`. */
function softwareName(value: string): string {
  return value.toLowerCase().split(/[\s/(;]+/).filter(Boolean).slice(0, 2).join(' ');
}

/**
 * Header tokens: which headers are present (and how often), subject words, sender and
 * recipient addresses and names, Message-ID domain, mailer, mailing list id, Received hosts and
 * networks, and the MIME structure (content types, charsets, encodings, attachment types).
 */
export function headerTokens(parsed: ParsedMessage, raw: Buffer | undefined, emit: Emit): void {
  const h = parsed.headers;
  for (const [name, values] of h) emit(`header:${name}:${Math.min(values.length, 10)}`);
  for (const word of parsed.subject.split(/\s+/)) if (word) wordTokens(word, emit, 'subject:');
  if (addressTokens(h.get('from'), 'from', emit, true) === 0) emit('from:none');
  addressTokens(h.get('reply-to'), 'reply-to', emit, false);
  const recipients = addressTokens(h.get('to'), 'to', emit, false) + addressTokens(h.get('cc'), 'cc', emit, false);
  emit(`to:count:${countBucket(recipients)}`);
  const messageId = parsed.messageId ?? '';
  const at = messageId.lastIndexOf('@');
  emit(at > 0 ? `message-id:@${domainSuffixes(messageId.slice(at + 1).replace(/>$/, ''))[0]}` : 'message-id:invalid');
  for (const name of ['x-mailer', 'user-agent']) {
    const value = h.get(name)?.[0];
    if (value) emit(`${name}:${softwareName(value)}`);
  }
  const listId = /<([^>]+)>/.exec(h.get('list-id')?.[0] ?? '')?.[1];
  if (listId) emit(`list-id:${listId.toLowerCase()}`);
  receivedTokens(h.get('received') ?? [], emit);
  if (raw) mimeTokens(raw, emit);
  for (const attachment of parsed.attachments) {
    const ext = /\.([a-z0-9]{1,8})$/i.exec(attachment.filename)?.[1];
    emit(`attachment:${ext ? ext.toLowerCase() : 'noext'}`);
  }
}
