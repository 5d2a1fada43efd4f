import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { LoadedPlugin } from '../../src/pipeline/registry.js';
import { PluginRunner } from '../../src/pipeline/runner.js';
import type { Hook, PluginManifest, SessionInfo, Transaction } from '../../src/pipeline/types.js';
import type { LedgerLine } from '../../src/store/types.js';

const log = pino({ level: 'silent' });
const session: SessionInfo = {
  id: 's1', listener: 'lmtp', clientAddress: '192.0.2.1', clientPort: 1, peerAddress: '127.0.0.1', proxied: true, heloName: 'h', secure: false,
};
const txn = (): Transaction => ({ id: 't1', mailFrom: 'a@b.test', recipients: [], addedHeaders: [], findings: [] });

function plugin(name: string, hook: Hook, options: { timeoutMs?: number; failOpen?: boolean } = {}): LoadedPlugin {
  const manifest: PluginManifest = { name, description: name, configSchema: z.object({}), hooks: { message: hook } };
  return {
    manifest,
    entry: { name, timeoutMs: options.timeoutMs ?? 1000, failOpen: options.failOpen ?? false, config: {} },
    config: {},
    state: undefined,
  };
}

async function run(plugins: LoadedPlugin[]) {
  const ledger: LedgerLine[] = [];
  const transaction = txn();
  const verdicts = await new PluginRunner(plugins, log).run('message', { session, transaction, ledger });
  return { verdicts, ledger, transaction };
}

describe('plugin runner', () => {
  it('runs in order, records one ledger line per hook, and stops at the first verdict', async () => {
    const { verdicts, ledger, transaction } = await run([
      plugin('a', (ctx) => ctx.report({ score: 2, reason: 'two', tags: ['x'] })),
      plugin('b', () => ({ action: 'reject', text: 'no thanks' })),
      plugin('c', () => {
        throw new Error('must not run');
      }),
    ]);
    expect(verdicts).toEqual([{ action: 'reject', text: 'no thanks' }]);
    expect(ledger.map((l) => [l.plugin, l.verdict, l.score, l.reason])).toEqual([
      ['a', 'continue', 2, 'two'],
      ['b', 'reject', 0, 'no thanks'],
    ]);
    expect(ledger.every((l) => typeof l.durationMs === 'number' && l.durationMs >= 0)).toBe(true);
    expect(transaction.findings).toEqual([{ plugin: 'a', finding: { score: 2, reason: 'two', tags: ['x'] } }]);
  });

  it('a throwing plugin is a tempfail 451 4.3.0', async () => {
    const { verdicts, ledger } = await run([plugin('boom', () => Promise.reject(new Error('daemon gone')))]);
    expect(verdicts).toEqual([expect.objectContaining({ action: 'tempfail', code: 451, enhanced: '4.3.0' })]);
    expect(ledger[0]).toMatchObject({ plugin: 'boom', verdict: 'tempfail', reason: expect.stringMatching(/daemon gone/) });
  });

  it('a plugin that overruns its timeout is a tempfail', async () => {
    const { verdicts, ledger } = await run([plugin('slow', () => new Promise(() => undefined), { timeoutMs: 50 })]);
    expect(verdicts[0]).toMatchObject({ action: 'tempfail', code: 451 });
    expect(ledger[0].reason).toMatch(/timed out after 50 ms/);
  });

  it('a fail-open plugin that throws or times out lets the chain go on, and the ledger says so', async () => {
    const { verdicts, ledger } = await run([
      plugin('flaky', () => Promise.reject(new Error('down')), { failOpen: true }),
      plugin('slow', () => new Promise(() => undefined), { timeoutMs: 30, failOpen: true }),
      plugin('after', (ctx) => ctx.report({ score: 1 })),
    ]);
    expect(verdicts).toEqual([]);
    expect(ledger.map((l) => [l.plugin, l.verdict])).toEqual([
      ['flaky', 'error-ignored'],
      ['slow', 'error-ignored'],
      ['after', 'continue'],
    ]);
  });

  it('verdicts narrowed to some recipients are collected without ending the stage', async () => {
    const { verdicts, ledger } = await run([
      plugin('quota', () => ({ action: 'tempfail', text: 'full', recipients: ['a@x.test'] })),
      plugin('next', () => undefined),
    ]);
    expect(verdicts).toHaveLength(1);
    expect(ledger).toHaveLength(2);
  });
});
