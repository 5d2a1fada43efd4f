/**
 * Signing helpers for authentication tests: real DKIM signatures and ARC seals made with mailauth,
 * with keys generated per test run and the DNS records that publish them.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { authenticate, dkimSign, sealMessage } from 'mailauth';
import type { TestRecords } from './test-dns-server.js';

/** An RSA key pair: the PEM private key and the DKIM `p=` value. */
export interface SigningKey {
  privateKey: string;
  publicKey: string;
}

export function generateSigningKey(bits = 2048): SigningKey {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** The TXT record of a DKIM selector: `{ 's1._domainkey.example.org': { TXT: [...] } }`. */
export function dkimRecord(domain: string, selector: string, key: SigningKey): Record<string, TestRecords> {
  return { [`${selector}._domainkey.${domain}`]: { TXT: [`v=DKIM1; k=rsa; p=${key.publicKey}`] } };
}

/** Reads a fixture from test/fixtures/auth/ with CRLF line ends. */
export function authFixture(name: string): string {
  const text = readFileSync(new URL(`../fixtures/auth/${name}`, import.meta.url), 'utf8');
  return text.replace(/\r?\n/g, '\r\n');
}

/** The message with a DKIM-Signature of `domain` in front. */
export async function dkimSigned(raw: string, domain: string, selector: string, key: SigningKey): Promise<string> {
  const result = await dkimSign(raw, {
    signingDomain: domain,
    selector,
    privateKey: key.privateKey,
    signatureData: [{ signingDomain: domain, selector, privateKey: key.privateKey }],
  });
  if (result.errors.length > 0) throw new Error(`dkimSign: ${JSON.stringify(result.errors)}`);
  return result.signatures + raw;
}

export interface Hop {
  ip: string;
  helo: string;
  sender: string;
  resolver: (name: string, rrtype: string) => Promise<any>;
}

/**
 * What a mailing list does: authenticate the message as received, change it (subject tag, footer),
 * then ARC-seal the changed message with the results it saw on arrival.
 */
export async function forwardThroughList(
  raw: string,
  hop: Hop,
  seal: { domain: string; selector: string; key: SigningKey },
  change: (raw: string) => string,
): Promise<string> {
  const arrival = await authenticate(raw, { ...hop, mta: seal.domain, disableBimi: true });
  const changed = change(raw);
  const headers = await sealMessage(changed, {
    signingDomain: seal.domain,
    selector: seal.selector,
    privateKey: seal.key.privateKey,
    authResults: arrival.arc ? arrival.arc.authResults : undefined,
    cv: arrival.arc ? arrival.arc.status.result : 'none',
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
  } as Parameters<typeof sealMessage>[1]);
  return headers.toString() + changed;
}
