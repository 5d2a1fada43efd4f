import type { HookContext, PluginManifest } from '../../src/plugin-api.js';
import { privacyConfigSchema, type PrivacyConfig } from './config.js';
import { detectE2e } from './e2e.js';
import { toFinding, type PrivacyInput } from './score.js';

export { privacyConfigSchema, type PrivacyConfig } from './config.js';

// The topmost Received header of the MTA in front of Hermod: ESMTPS/ESMTPSA/LMTPS (RFC 3848) or Postfix's "(using TLS...".
const TLS_RECEIVED = /\bwith\s+(e?smtps|esmtpsa|utf8smtps|utf8smtpsa|lmtps|lmtpsa)\b|\(using\s+tls/i;

function transport(ctx: HookContext<PrivacyConfig>): PrivacyInput['transport'] {
  if (ctx.session.secure) return { tls: true, seenIn: 'session' };
  if (ctx.config.tlsFromReceived) {
    const top = ctx.transaction.parsed?.headers.get('received')?.[0] ?? '';
    if (TLS_RECEIVED.test(top)) return { tls: true, seenIn: 'received' };
  }
  return { tls: false, seenIn: 'none' };
}

function onMessage(ctx: HookContext<PrivacyConfig>): void {
  const { raw, parsed, auth } = ctx.transaction;
  const e2e = detectE2e(raw ?? Buffer.alloc(0), parsed?.text ?? '', ctx.config.maxScanBytes);
  ctx.report(toFinding({ transport: transport(ctx), auth, e2e }, ctx.config.weights, ctx.config.tags));
}

/**
 * A privacy index in the spirit of Caliopen's: transport security of the last hop, authenticity
 * (SPF, aligned DKIM, DMARC from the auth plugin) and end-to-end protection (PGP, S/MIME), each
 * factor's points recorded in the ledger. Classification only: it reports no spam score.
 */
const privacy: PluginManifest<PrivacyConfig> = {
  name: 'privacy',
  description: 'Privacy index (Caliopen-style): TLS of the last hop, SPF/DKIM/DMARC, PGP or S/MIME; each contribution in the ledger.',
  after: ['parse'],
  configSchema: privacyConfigSchema,
  hooks: { message: onMessage },
};

export default privacy;
