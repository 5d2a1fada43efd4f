import type { AuthenticateResult, AuthStatus } from 'mailauth';
import type { AuthResult, AuthSummary } from '../../src/plugin-api.js';

const KNOWN: ReadonlySet<string> = new Set(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']);

/** mailauth's result words, folded onto RFC 8601's (it also says `temperr` and `skipped`). */
export function normalizeResult(result: AuthStatus['result'] | undefined): AuthResult {
  if (result === 'temperr') return 'temperror';
  if (result && KNOWN.has(result)) return result as AuthResult;
  return 'none';
}

function dmarcPolicy(policy: string | undefined): AuthSummary['dmarc']['policy'] {
  return policy === 'reject' || policy === 'quarantine' ? policy : 'none';
}

/** The From domain the checks were aligned against; '' when there is none or several. */
function fromDomain(result: AuthenticateResult): string {
  const from = result.dkim.headerFrom ?? [];
  if (from.length !== 1) return '';
  return from[0].slice(from[0].lastIndexOf('@') + 1).toLowerCase();
}

function summarizeDmarc(result: AuthenticateResult, domain: string, froms: number): AuthSummary['dmarc'] {
  if (result.dmarc) {
    return { result: normalizeResult(result.dmarc.status.result), domain: result.dmarc.domain, policy: dmarcPolicy(result.dmarc.policy) };
  }
  // mailauth skips DMARC without exactly one From address; several are a policy error (RFC 7489 6.6.1).
  return { result: froms > 1 ? 'permerror' : 'none', domain, policy: 'none' };
}

/** Reduces mailauth's detailed result to what later plugins and the ledger need. */
export function summarize(result: AuthenticateResult): AuthSummary {
  const domain = fromDomain(result);
  const dkim = (result.dkim.results ?? [])
    .filter((r) => r.signingDomain)
    .map((r) => ({
      result: normalizeResult(r.status.result),
      domain: r.signingDomain.toLowerCase(),
      selector: r.selector ?? '',
      aligned: Boolean(r.status.aligned),
    }));
  const arc = result.arc
    ? {
        result: normalizeResult(result.arc.status.result),
        ...(result.arc.signature ? { sealer: result.arc.signature.signingDomain.toLowerCase() } : {}),
      }
    : { result: 'none' as const };
  return {
    spf: result.spf
      ? { result: normalizeResult(result.spf.status.result), domain: result.spf.domain ?? '' }
      : { result: 'none', domain: '' },
    dkim,
    dmarc: summarizeDmarc(result, domain, (result.dkim.headerFrom ?? []).length),
    arc,
    fromDomain: domain,
  };
}

/** "spf=pass dkim=pass dmarc=pass arc=none": the ledger reason. */
export function describe(summary: AuthSummary): string {
  const dkim = summary.dkim.length === 0 ? 'none' : summary.dkim.map((d) => `${d.result}(${d.domain})`).join(',');
  const dmarc = summary.dmarc.result === 'none' ? 'none' : `${summary.dmarc.result}(p=${summary.dmarc.policy})`;
  return `spf=${summary.spf.result} dkim=${dkim} dmarc=${dmarc} arc=${summary.arc.result}`;
}

/** Splits mailauth's header block ("Name: value\r\n folded\r\n...") into name/value pairs. */
export function splitHeaders(block: string): [string, string][] {
  return block
    .split(/\r\n(?![ \t])/)
    .filter((line) => line.includes(':'))
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trimStart()];
    });
}
