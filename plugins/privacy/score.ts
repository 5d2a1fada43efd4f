import type { AuthSummary, PluginFinding } from '../../src/plugin-api.js';
import type { PrivacyWeights } from './config.js';
import type { E2eProtection } from './e2e.js';

/** One factor of the index: what was found and the points it gave. */
export interface Contribution {
  factor: 'transport' | 'spf' | 'dkim' | 'dmarc' | 'e2e-signed' | 'e2e-encrypted';
  value: string;
  points: number;
}

export interface PrivacyInput {
  /** 'tls' | 'plain', and where that was seen. */
  transport: { tls: boolean; seenIn: 'session' | 'received' | 'none' };
  auth?: AuthSummary;
  e2e: E2eProtection;
}

const schemes = (e2e: E2eProtection, kind: 'signed' | 'encrypted'): string[] =>
  (['pgp', 'smime'] as const).filter((s) => e2e[s][kind]);

/** Each factor with its points; a factor that is absent scores 0 and is still listed. */
export function contributions(input: PrivacyInput, w: PrivacyWeights): Contribution[] {
  const { auth, e2e } = input;
  const aligned = (auth?.dkim ?? []).some((d) => d.result === 'pass' && d.aligned);
  const signed = schemes(e2e, 'signed');
  const encrypted = schemes(e2e, 'encrypted');
  return [
    { factor: 'transport', value: input.transport.tls ? 'tls' : 'plain', points: input.transport.tls ? w.tls : 0 },
    { factor: 'spf', value: auth?.spf.result ?? 'unknown', points: auth?.spf.result === 'pass' ? w.spf : 0 },
    { factor: 'dkim', value: auth ? (aligned ? 'pass-aligned' : (auth.dkim[0]?.result ?? 'none')) : 'unknown', points: aligned ? w.dkim : 0 },
    { factor: 'dmarc', value: auth?.dmarc.result ?? 'unknown', points: auth?.dmarc.result === 'pass' ? w.dmarc : 0 },
    { factor: 'e2e-signed', value: signed.join(',') || 'none', points: signed.length ? w.signed : 0 },
    { factor: 'e2e-encrypted', value: encrypted.join(',') || 'none', points: encrypted.length ? w.encrypted : 0 },
  ];
}

/** The finding: the index (0..100 with default weights), its parts, and tags for e2e mail. */
export function toFinding(input: PrivacyInput, w: PrivacyWeights, withTags: boolean): PluginFinding {
  const parts = contributions(input, w);
  const index = parts.reduce((sum, c) => sum + c.points, 0);
  const scoring = parts.filter((c) => c.points > 0).map((c) => c.factor);
  const signed = schemes(input.e2e, 'signed');
  const encrypted = schemes(input.e2e, 'encrypted');
  const tags = withTags
    ? [...(encrypted.length ? ['encrypted'] : []), ...(signed.length ? ['signed'] : []), ...new Set([...encrypted, ...signed])]
    : [];
  return {
    ...(tags.length ? { tags } : {}),
    reason: `privacy index ${index}${scoring.length ? `: ${scoring.join(', ')}` : ''}`,
    details: {
      privacy: {
        index,
        transport: input.transport.tls ? 'tls' : 'plain',
        transportSeenIn: input.transport.seenIn,
        authenticity: { spf: parts[1].value, dkim: parts[2].value, dmarc: parts[3].value },
        e2e: { signed, encrypted },
        contributions: parts,
      },
    },
  };
}
