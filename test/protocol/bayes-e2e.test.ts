import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learnMessage } from '../../plugins/bayes/index.js';
import parse from '../../plugins/parse/index.js';
import { bayesConfigSchema } from '../../plugins/bayes/config.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { makeTransaction, runHook } from '../helpers/plugin-context.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** LMTP delivery of a raw message to alice@example.test; returns the entry id. */
async function deliver(h: Harness, raw: string): Promise<string> {
  const client = await RawSmtpClient.open(h.lmtpPort);
  await client.reply();
  await client.command('LHLO mta.test');
  await client.command('MAIL FROM:<sender@example.org>');
  expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
  await client.command('DATA');
  const body = raw.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  client.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
  const reply = (await client.reply()).text;
  client.close();
  const id = /delivered as (\S+)/.exec(reply)?.[1];
  if (!id) throw new Error(`not delivered: ${reply}`);
  return id;
}

describe('the bayes plugin in the delivery chain', () => {
  let hermod: Harness;

  beforeAll(async () => {
    hermod = await startHermod({
      // 07-heuristic-spam would be refused outright (heuristics + bayes ≥ 15); file it instead, to look at it.
      scoring: { reject: 100 },
      plugins: [{ name: 'parse' }, { name: 'spam' }, { name: 'bayes', config: { minTrained: 2 } }, { name: 'classify' }],
    });
    // Taught with the same code `hermod spam train` uses: parse plugin, bayes tokenizer, the server's store.
    const config = bayesConfigSchema.parse({ minTrained: 2 });
    for (const name of readdirSync(join(fixtures, 'bayes'))) {
      const raw = readFileSync(join(fixtures, 'bayes', name));
      const txn = makeTransaction(raw);
      await runHook(parse, 'data', txn);
      const label = name.startsWith('spam') ? 'spam' : 'ham';
      await learnMessage(hermod.server.services.store, { parsed: txn.parsed!, raw, mailboxId: null, label }, config);
    }
  });
  afterAll(async () => {
    await hermod.stop();
  });

  it.each([
    ['07-heuristic-spam.eml', 'spam', 8, 'Junk'],
    ['01-personal.eml', 'ham', -1, 'INBOX'],
  ])('%s: bayes says %s (score %d), the scorer files it in %s', async (name, verdict, score, folder) => {
    const store = hermod.server.services.store;
    const entryId = await deliver(hermod, readFileSync(join(fixtures, 'mail', name), 'latin1'));
    const ledger = await store.getLedger(entryId);
    expect(ledger.map((l) => l.plugin)).toEqual(['parse', 'spam', 'bayes', 'classify', 'scorer']);
    const line = ledger.find((l) => l.plugin === 'bayes')!;
    expect(line).toMatchObject({ stage: 'message', verdict: 'continue', score });
    expect(line.reason).toMatch(new RegExp(`^bayes ${verdict} p=`));
    expect(line.details).toMatchObject({ verdict, statistics: 'global', trained: { spam: 4, ham: 4 } });
    expect((await store.getEntry(entryId))!.folder).toBe(folder);
  });
});
