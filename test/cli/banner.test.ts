import { afterEach, describe, expect, it, vi } from 'vitest';
import { printBanner } from '../../src/cli/banner.js';
import { configSchema } from '../../src/config/schema.js';
import type { RunningServer } from '../../src/server.js';

/** A running server reduced to what the banner reads: addresses and an empty-store check. */
function serverWithOps(): RunningServer {
  const ops = { address: '127.0.0.1', family: 'IPv4', port: 9424 };
  return { ops, services: { store: { listDomains: async () => ['example.test'] } } } as unknown as RunningServer;
}

async function bannerFor(ops: Record<string, unknown>): Promise<string> {
  let written = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  });
  await printBanner(serverWithOps(), configSchema.parse({ ops }), { envVariables: [] });
  return written;
}

describe('the start banner', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the ops URL with the scheme the listener speaks', async () => {
    expect(await bannerFor({ enabled: true })).toContain('  Ops on http://127.0.0.1:9424/');
    const tls = { enabled: true, tls: { cert: '/etc/hermod/ops.pem', key: '/etc/hermod/ops.key' } };
    expect(await bannerFor(tls)).toContain('  Ops on https://127.0.0.1:9424/');
  });
});
