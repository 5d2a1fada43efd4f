import type { Logger } from 'pino';
import type { DkimKeys } from './dkim-keys.js';
import { domainOf, headerAddresses } from '../mail/message-headers.js';

/**
 * Signs outbound mail with the key of its sender domain: the From header's domain (what DMARC
 * aligns with), else the envelope sender's. No key, no signature; a signing failure is logged
 * and the message goes unsigned rather than stuck.
 */
export class DkimSigner {
  constructor(
    private readonly keys: DkimKeys,
    private readonly log: Logger,
  ) {}

  /** The message with a DKIM-Signature header in front, or as it was. */
  async sign(raw: Buffer, envelopeSender: string): Promise<Buffer> {
    const fromDomain = domainOf(headerAddresses(raw, 'from')[0] ?? '');
    const key = this.keys.forDomain(fromDomain) ?? (envelopeSender ? this.keys.forDomain(domainOf(envelopeSender)) : null);
    if (!key) return raw;
    // mailauth is imported at the first message that has a key to sign with: signing is on by
    // default, but a node without keys (or without outbound mail) never loads it.
    const { dkimSign } = await import('mailauth');
    const result = await dkimSign(raw, {
      canonicalization: 'relaxed/relaxed',
      algorithm: `${key.algorithm}-sha256`,
      signingDomain: key.domain,
      selector: key.selector,
      privateKey: key.privateKey,
      signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
    });
    if (result.errors.length > 0) {
      this.log.warn({ domain: key.domain, errors: result.errors }, 'DKIM signing failed; sending unsigned');
      return raw;
    }
    return Buffer.concat([Buffer.from(result.signatures), raw]);
  }
}
