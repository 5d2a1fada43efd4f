/** The part of mx-connect (no bundled types) that Hermod uses. */
declare module 'mx-connect' {
  import type { Socket } from 'node:net';

  export interface MxPolicyMatch {
    valid: boolean;
    mode: 'none' | 'testing' | 'enforce';
    testing: boolean;
    match?: string;
  }

  export interface MxConnection {
    socket: Socket;
    hostname: string;
    host: string;
    port: number;
    policyMatch?: MxPolicyMatch;
    daneEnabled?: boolean;
    tlsaRecords?: { usage: number; selector: number; mtype: number; cert: Buffer }[] | null;
    requireTls?: boolean;
  }

  export interface MxConnectOptions {
    target: string;
    port?: number;
    maxConnectTime?: number;
    localHostname?: string;
    mx?: (string | { exchange: string; priority?: number; A?: string[]; AAAA?: string[] })[];
    dnsOptions?: {
      ignoreIPv6?: boolean;
      preferIPv6?: boolean;
      blockLocalAddresses?: boolean;
      resolve?: (name: string, type: string, callback: (err: Error | null, records?: unknown) => void) => void;
    };
    mtaSts?: {
      enabled: boolean;
      logger?: (entry: Record<string, unknown>) => void;
      cache?: { get(domain: string): Promise<unknown>; set(domain: string, policy: unknown): Promise<unknown> };
    };
    dane?: {
      enabled: boolean;
      resolveTlsa?: (name: string) => Promise<unknown[]>;
      logger?: (entry: Record<string, unknown>) => void;
      verify?: boolean;
    };
  }

  function mxConnect(options: MxConnectOptions): Promise<MxConnection>;
  namespace mxConnect {
    const dane: {
      verifyCertAgainstTlsa(cert: unknown, records: unknown[]): { valid: boolean; error: string | null; noRecords?: boolean };
    };
  }
  export default mxConnect;
}
