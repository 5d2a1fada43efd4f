import type { AuthResult } from '../../src/plugin-api.js';

/* The auth plugin's result, merged into the plugin API for later plugins (classify, privacy). */
declare module '../../src/plugin-api.js' {
  /** What the `auth` plugin found, in a form later plugins can test without knowing mailauth. */
  interface AuthSummary {
    /** SPF of the MAIL FROM domain (or the HELO name for a null sender), checked against the client address. */
    spf: { result: AuthResult; domain: string };
    /** One entry per DKIM-Signature; `aligned` when its domain aligns with the From domain (DMARC relaxed/strict). */
    dkim: { result: AuthResult; domain: string; selector: string; aligned: boolean }[];
    /** DMARC of the From domain; `policy` is the published p=/sp= that applies (none when no record). */
    dmarc: { result: AuthResult; domain: string; policy: 'none' | 'quarantine' | 'reject' };
    /** ARC chain validation; `sealer` is the signing domain of the latest ARC-Seal. */
    arc: { result: AuthResult; sealer?: string };
    /** The From header domain the checks were aligned against ('' when none or several). */
    fromDomain: string;
  }

  interface TransactionExtensions {
    /** Set by the `auth` plugin: SPF, DKIM, DMARC and ARC results, for later plugins (classify, privacy). */
    auth?: AuthSummary;
  }
}
