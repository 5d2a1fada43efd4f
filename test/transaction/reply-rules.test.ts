import { describe, expect, it } from 'vitest';
import { REPLIES, type Reply } from '../../src/mail/replies.js';
import { checkParameters, MAIL_PARAMETERS, RCPT_PARAMETERS } from '../../src/protocol/envelope-parameters.js';
import { forwardedClient } from '../../src/protocol/forwarded-attributes.js';
import { singleReply, type RecipientOutcome } from '../../src/transaction/recipient-outcome.js';

const mailbox = { id: 'm', address: 'a@example.test', aliases: [], quotaBytes: 0, createdAt: new Date(0) };
const stored = (address: string): RecipientOutcome => ({ kind: 'stored', recipient: { address, mailbox }, entryId: 'e', duplicate: false });
const quota = (address: string, permanent: boolean): RecipientOutcome => ({ kind: 'over-quota', recipient: { address, mailbox }, permanent });
const ok: Reply = { ...REPLIES.accepted };

describe('SMTP one-reply rule (singleReply)', () => {
  it.each([
    ['all stored', [stored('a'), stored('b')], [ok, ok], 250, []],
    ['nothing stored, one refusal', [quota('a', false), quota('b', false)], [REPLIES.overQuotaTemp, REPLIES.overQuotaTemp], 452, []],
    ['nothing stored, mixed: the temporary one', [quota('a', true), quota('b', false)], [REPLIES.overQuotaPerm, REPLIES.overQuotaTemp], 452, []],
    ['stored beside a temporary refusal: retry', [stored('a'), quota('b', false)], [ok, REPLIES.overQuotaTemp], 451, []],
    ['stored beside a permanent refusal: 250, copy dropped', [stored('a'), quota('b', true)], [ok, REPLIES.overQuotaPerm], 250, ['b']],
  ] as const)('%s', (_name, outcomes, replies, code, dropped) => {
    const result = singleReply([...outcomes], [...replies]);
    expect(result.reply.code).toBe(code);
    expect(result.dropped).toEqual(dropped);
  });
});

describe('forwarded client attributes', () => {
  const own = { address: '10.0.0.5', port: 40000, heloName: 'mta.example.test' };

  it('takes what the MTA forwarded', () => {
    const attrs = new Map<string, unknown>([['ADDR', '192.0.2.7'], ['PORT', '41000'], ['HELO', 'client.test']]);
    expect(forwardedClient(own, attrs)).toEqual({ address: '192.0.2.7', port: 41000, heloName: 'client.test' });
  });

  it('reads [UNAVAILABLE] and [TEMPUNAVAIL] (or smtp-server\'s false) as unknown', () => {
    for (const unknown of [false, '[UNAVAILABLE]', '[TEMPUNAVAIL]']) {
      const attrs = new Map<string, unknown>([['ADDR', unknown], ['HELO', unknown]]);
      expect(forwardedClient(own, attrs)).toEqual({ address: '10.0.0.5', port: 40000, heloName: '' });
    }
  });

  it('without forwarded attributes the connection is its own client', () => {
    expect(forwardedClient(own, new Map())).toEqual(own);
    expect(forwardedClient(own, undefined)).toEqual(own);
  });
});

describe('MAIL/RCPT parameter table', () => {
  it.each([
    [{ SIZE: '1000', BODY: '8BITMIME', SMTPUTF8: true as const }, MAIL_PARAMETERS, null],
    [{ SIZE: 'abc' }, MAIL_PARAMETERS, '501 5.5.4'],
    [{ BODY: 'foo' }, MAIL_PARAMETERS, '501 5.5.4'],
    [{ SIZE: true as const }, MAIL_PARAMETERS, '501 5.5.4'],
    [{ FOO: 'bar' }, MAIL_PARAMETERS, '555 5.5.4'],
    [{ NOTIFY: 'NEVER' }, RCPT_PARAMETERS, '555 5.5.4'],
    [{ toString: 'x' }, RCPT_PARAMETERS, '555 5.5.4'],
  ])('%o', (args, table, expected) => {
    const reply = checkParameters(args as Record<string, string | true>, table);
    expect(reply ? `${reply.code} ${reply.enhanced}` : null).toBe(expected);
  });
});
