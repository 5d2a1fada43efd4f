/**
 * Property tests: hostile SMTP and LMTP command lines against a real listener. Whatever the
 * client sends, the server answers every line with a well-formed reply (or closes cleanly),
 * nothing is left rejected in the process, and the listener still delivers afterwards.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { exchange, expectServersUnharmed, expectWellFormed, lastCode, propertyParameters, watchProcessFaults } from '../helpers/wire-properties.js';

const VERBS = ['HELO', 'EHLO', 'LHLO', 'MAIL', 'RCPT', 'RSET', 'NOOP', 'VRFY', 'EXPN', 'HELP', 'XCLIENT', 'XFORWARD', 'ETRN', 'BDAT', 'AUTH', 'STARTTLS', 'TURN', 'SEND', 'SAML'];

/** Text with the bytes that break naive parsers: bare CR, NUL, 8-bit, controls, spaces. */
const hostileChar = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('\r', '\0', '\t', ' ', '\x7f', '\x1b', ':', '<', '>', '=', '"', '\\', '@') },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
);
const hostileText = (maxLength: number) => fc.array(hostileChar, { maxLength }).map((a) => a.join(''));

const localPart = fc.oneof(
  fc.stringMatching(/^[a-z0-9.+-]{1,20}$/),
  hostileText(30),
  fc.constant('"quoted local"'),
  fc.constant('a'.repeat(300)),
);
const domain = fc.oneof(
  fc.constantFrom('example.test', 'remote.test', '[127.0.0.1]', '[IPv6:::1]', 'xn--nxasmq6b.test', 'пример.test'),
  fc.domain(),
  hostileText(20),
);
const address = fc.oneof(
  fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`),
  fc.constantFrom('', 'alice@example.test', '@a,@b:c@d', 'postmaster'),
  hostileText(40),
);
const parameter = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 40 }).map((n) => `SIZE=${n}`),
  fc.constantFrom('BODY=8BITMIME', 'BODY=7BIT', 'BODY=BINARYMIME', 'BODY=', 'SMTPUTF8', 'SMTPUTF8=yes', 'RET=FULL', 'RET=HDRS', 'ENVID=a+2Bb', 'NOTIFY=NEVER', 'NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;a@b', 'REQUIRETLS', 'AUTH=<>', 'MT-PRIORITY=9'),
  fc.tuple(fc.stringMatching(/^[A-Z-]{1,12}$/), hostileText(20)).map(([k, v]) => `${k}=${v}`),
  hostileText(20),
);
const envelopeCommand = fc
  .tuple(fc.constantFrom('MAIL FROM:', 'RCPT TO:', 'mail from: ', 'RCPT TO: '), address, fc.boolean(), fc.array(parameter, { maxLength: 4 }))
  .map(([verb, addr, bracket, params]) => `${verb}${bracket ? `<${addr}>` : addr}${params.map((p) => ` ${p}`).join('')}`);

/** XCLIENT / XFORWARD attributes, as a trusted MTA (or a confused one) would send them. */
const forwardedAttribute = fc.oneof(
  fc.tuple(fc.constantFrom('ADDR', 'NAME', 'PORT', 'PROTO', 'HELO', 'LOGIN', 'IDENT', 'SOURCE', 'DESTADDR', 'X'), fc.oneof(hostileText(30), fc.ipV4(), fc.ipV6().map((a) => `IPV6:${a}`), fc.constantFrom('[UNAVAILABLE]', '[TEMPUNAVAIL]', '', '65536', '-1', 'ESMTP', 'LOCAL'))).map(([k, v]) => `${k}=${v}`),
  hostileText(20),
);
const forwardingCommand = fc
  .tuple(fc.constantFrom('XCLIENT', 'XFORWARD'), fc.array(forwardedAttribute, { minLength: 0, maxLength: 5 }))
  .map(([verb, attrs]) => [verb, ...attrs].join(' '));

/** One command line, without LF (a bare CR may be inside). */
const commandLine = fc.oneof(
  { weight: 4, arbitrary: envelopeCommand },
  { weight: 2, arbitrary: forwardingCommand },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...VERBS), hostileText(40)).map(([v, a]) => `${v} ${a}`) },
  { weight: 2, arbitrary: hostileText(60) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...VERBS, 'MAIL FROM:<'), fc.integer({ min: 500, max: 12_000 })).map(([v, n]) => v + 'x'.repeat(n)) },
);

/** Lines after which the server rightly stops answering line by line. */
const SESSION_CHANGING = /^\s*(DATA|QUIT|STARTTLS|AUTH|BDAT)\b/i;

let hermod: Harness;
/** XCLIENT and XFORWARD are only offered to trusted MTAs: a second server trusts loopback. */
let forwarding: Harness;
let watch: ReturnType<typeof watchProcessFaults>;
beforeAll(async () => {
  watch = watchProcessFaults();
  hermod = await startHermod();
  forwarding = await startHermod({ xforward: { trusted: ['127.0.0.1/32'] }, xclient: { trusted: ['127.0.0.1/32'] } });
});
afterAll(async () => {
  await hermod?.stop();
  await forwarding?.stop();
  watch?.uninstall();
});
afterEach(() => expectServersUnharmed(watch.faults, [hermod, forwarding]));

describe.each([
  ['LMTP', 'LHLO', () => hermod.lmtpPort],
  ['SMTP', 'EHLO', () => hermod.smtpPort],
  ['LMTP from a trusted forwarding MTA', 'LHLO', () => forwarding.lmtpPort],
])('%s command lines', (_name, hello, port) => {
  it('every line gets exactly one well-formed reply, then QUIT gets 221 (or the server closed cleanly)', { timeout: 60_000 }, async () => {
    const lines = fc.array(commandLine.filter((l) => !SESSION_CHANGING.test(l) && !l.includes('\n')), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), lines, async (greetFirst, sent) => {
        const all = [...(greetFirst ? [`${hello} client.test`] : []), ...sent, 'QUIT'];
        const ex = await exchange(port(), Buffer.from(`${all.join('\r\n')}\r\n`, 'latin1'), { done: (l) => l.some((x) => x.startsWith('221 ')) });
        // RFC 2034 leaves the replies to HELO/EHLO/LHLO without an enhanced code.
        const replies = ex.lines.filter((l) => l[3] !== '-').length;
        const exempt = [true, ...all.map((l) => /^(HELO|EHLO|LHLO)\b/i.test(l))];
        expectWellFormed(ex, { sent: all }, exempt);
        if (!ex.closedByServer || lastCode(ex) === 221) {
          expect({ replies, last: lastCode(ex), sent: all }).toEqual({ replies: all.length + 1, last: 221, sent: all });
          // An address that is not UTF-8 is never accepted (it would be recorded with U+FFFD).
          const finals = ex.lines.filter((l) => l[3] !== '-').slice(1);
          const acceptedNonUtf8 = all.filter((l, i) => /^(MAIL FROM|RCPT TO):/i.test(l) && !isUtf8(Buffer.from(l, 'latin1')) && finals[i]?.startsWith('2'));
          expect({ acceptedNonUtf8 }).toEqual({ acceptedNonUtf8: [] });
        } else {
          // The server may end a hostile session, but says why first, with a 4xx/5xx.
          expect({ last: lastCode(ex) ?? 0, sent: all }).toEqual({ last: expect.toSatisfy((c: number) => c >= 400), sent: all });
        }
      }),
      propertyParameters(25),
    );
  });

  it('any byte stream (LF, DATA, dots, pipelining) is answered with well-formed replies and ends cleanly', { timeout: 60_000 }, async () => {
    const chunk = fc.oneof(
      commandLine.map((l) => `${l}\r\n`),
      forwardingCommand.map((l) => `${l}\r\n`),
      fc.constantFrom('DATA\r\n', '.\r\n', '\n', '\r', '\r\n', '\0', `${hello} x\r\n`, 'MAIL FROM:<bob@remote.test>\r\n', 'RCPT TO:<alice@example.test>\r\n', 'RSET\r\n'),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 12 }), async (chunks) => {
        const input = Buffer.from(`${chunks.join('')}\r\n.\r\nQUIT\r\n`, 'latin1');
        const ex = await exchange(port(), input, { done: (l) => l.some((x) => x.startsWith('221 ')) });
        // Replies cannot be matched to lines here; with a HELO/EHLO/LHLO sent, only the syntax is checked.
        const hello = /(^|\n)\s*(HELO|EHLO|LHLO)/i.test(chunks.join(''));
        expectWellFormed(ex, { chunks }, hello ? () => true : undefined);
        expect({ ended: ex.closedByServer || lastCode(ex) === 221, chunks }).toEqual({ ended: true, chunks });
      }),
      propertyParameters(25),
    );
  });
});

describe('a delivery carrying forwarded client attributes', () => {
  it('is answered well-formed; a stored copy starts with a header block Hermod kept intact', { timeout: 60_000 }, async () => {
    const attributes = fc.array(forwardedAttribute, { minLength: 1, maxLength: 4 });
    let delivered = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('XFORWARD', 'XCLIENT'), attributes, async (verb, attrs) => {
        const lines = [`${verb} ${attrs.join(' ')}`, 'LHLO mta.test', 'MAIL FROM:<bob@remote.test>', 'RCPT TO:<alice@example.test>', 'DATA'];
        const message = 'From: bob@remote.test\r\nSubject: forwarded\r\n\r\nHi.\r\n.\r\nQUIT\r\n';
        const input = Buffer.from(`LHLO mta.test\r\n${lines.join('\r\n')}\r\n${message}`, 'latin1');
        const ex = await exchange(forwarding.lmtpPort, input, { done: (l) => l.some((x) => x.startsWith('221 ')) });
        const exempt = [true, true, ...lines.map((l) => /^(LHLO|XCLIENT)\b/.test(l))];
        expectWellFormed(ex, { lines }, exempt);
        const entryId = ex.lines.map((l) => /^250 .*delivered as (\S+)/.exec(l)?.[1]).find(Boolean);
        if (!entryId) return;
        delivered++;
        const stored = (await forwarding.server.services.store.getFullMessage(entryId))!.toString('latin1');
        const head = stored.slice(0, stored.indexOf('\r\nFrom: bob@remote.test'));
        const bad = head.split('\r\n').filter((l) => !/^([A-Za-z-]+: |\t)[\x20-\x7e\t]*$/.test(l) || /[\r\n]/.test(l));
        expect({ bad, head }).toEqual({ bad: [], head });
      }),
      propertyParameters(25),
    );
    // Most runs must reach the store, or the header check above proved nothing.
    expect(delivered).toBeGreaterThan(0);
  });
});
