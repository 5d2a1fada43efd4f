/**
 * Property tests: PROXY protocol headers (v1 text, v2 binary) as HAProxy would send them, and
 * the same headers truncated, mutated, or replaced by random bytes. A valid header from a trusted
 * peer leads to a normal session; anything else is refused by a clean close (or a well-formed
 * reply), never a crash, a hang or a rejected promise left behind.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { looksLikeProxyHeader } from '../../src/protocol/proxy-header.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { exchange, expectServersUnharmed, expectWellFormed, lastCode, propertyParameters, watchProcessFaults } from '../helpers/wire-properties.js';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const SESSION = Buffer.from('LHLO proxied.test\r\nQUIT\r\n');

const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));
const port = fc.integer({ min: 0, max: 65535 });

const validV1 = fc.oneof(
  fc.tuple(fc.ipV4(), fc.ipV4(), port, port).map(([s, d, sp, dp]) => `PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`),
  fc.tuple(ipv6, ipv6, port, port).map(([s, d, sp, dp]) => `PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`),
  fc.constant('PROXY UNKNOWN\r\n'),
).map((text) => Buffer.from(text, 'latin1'));

const tlv = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
  .map(([type, value]) => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), Buffer.from(value)]));

/** family/protocol byte and the address block length the spec gives it. */
const FAMILIES: [number, number][] = [[0x11, 12], [0x12, 12], [0x21, 36], [0x22, 36], [0x31, 216], [0x32, 216], [0x00, 0]];

const validV2 = fc
  .tuple(fc.constantFrom(0x20, 0x21), fc.constantFrom(...FAMILIES), fc.uint8Array({ minLength: 216, maxLength: 216 }), fc.array(tlv, { maxLength: 3 }))
  .map(([verCmd, [famProto, addrLength], addressBytes, tlvs]) => {
    const payload = Buffer.concat([Buffer.from(addressBytes.subarray(0, addrLength)), ...tlvs]);
    const head = Buffer.from([verCmd, famProto, payload.length >> 8, payload.length & 0xff]);
    return Buffer.concat([SIGNATURE, head, payload]);
  });

const validHeader = fc.oneof(validV1, validV2);

/** v1 lines whose address is not the family's canonical form: another family, hex, octal, short, zoned. */
const nonCanonicalV1 = fc
  .tuple(
    fc.oneof(
      fc.tuple(fc.constant('TCP4'), fc.oneof(ipv6, fc.ipV4Extended().filter((a) => !/^\d+(\.\d+){3}$/.test(a) || /(^|\.)0\d/.test(a)))),
      fc.tuple(fc.constant('TCP6'), fc.oneof(fc.ipV4(), ipv6.map((a) => `${a}%eth0`))),
    ),
    port,
  )
  .map(([[family, source], p]) => Buffer.from(`PROXY ${family} ${source} ${family === 'TCP4' ? '127.0.0.1' : '::1'} ${p} 2424\r\n`, 'latin1'));

/** A valid header spoiled in one of the ways a broken or hostile peer would. */
const spoiledHeader = fc.oneof(
  fc.tuple(validHeader, fc.nat()).map(([h, n]) => h.subarray(0, n % Math.max(1, h.length))),
  fc.tuple(validHeader, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([h, flips]) => {
    const copy = Buffer.from(h);
    for (const [at, byte] of flips) copy[at % copy.length] = byte;
    return copy;
  }),
  fc.tuple(validV2, fc.integer({ min: 0, max: 0xffff })).map(([h, length]) => {
    const copy = Buffer.from(h);
    copy.writeUInt16BE(length, 14);
    return copy;
  }),
  fc.tuple(validHeader, fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([h, junk]) => Buffer.concat([h, Buffer.from(junk)])),
  fc.tuple(fc.constantFrom(SIGNATURE, Buffer.from('PROXY '), Buffer.from('PROXY TCP4 ')), fc.uint8Array({ maxLength: 300 })).map(([p, junk]) => Buffer.concat([p, Buffer.from(junk)])),
  fc.string({ unit: 'grapheme-ascii', maxLength: 120 }).map((s) => Buffer.from(`PROXY ${s}\r\n`, 'latin1')),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
);

let trusted: Harness;
let untrusted: Harness;
let watch: ReturnType<typeof watchProcessFaults>;
beforeAll(async () => {
  watch = watchProcessFaults();
  trusted = await startHermod({ proxy: { trusted: ['127.0.0.1/32'], timeoutMs: 300 } });
  untrusted = await startHermod({ proxy: { trusted: ['192.0.2.0/24'], timeoutMs: 300 } });
});
afterAll(async () => {
  await trusted?.stop();
  await untrusted?.stop();
  watch?.uninstall();
});
afterEach(() => expectServersUnharmed(watch.faults, [trusted, untrusted]));

const saw221 = (lines: string[]) => lines.some((l) => l.startsWith('221 '));

describe('PROXY headers on the LMTP listener', () => {
  it('a valid v1 or v2 header from a trusted peer leads to a normal session', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(validHeader, async (header) => {
        const ex = await exchange(trusted.lmtpPort, SESSION, { preamble: header, done: saw221 });
        const context = { header: header.toString('hex') };
        expectWellFormed(ex, context, [true, true]);
        expect({ greeting: ex.lines[0]?.slice(0, 3), last: lastCode(ex), context }).toEqual({ greeting: '220', last: 221, context });
      }),
      propertyParameters(40),
    );
  });

  it('a v1 address in another family or a non-canonical form is refused before the greeting', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(nonCanonicalV1, async (header) => {
        const ex = await exchange(trusted.lmtpPort, SESSION, { preamble: header, maxMs: 5000 });
        const context = { header: header.toString('latin1') };
        expect({ lines: ex.lines, closed: ex.closedByServer, context }).toEqual({ lines: [], closed: true, context });
      }),
      propertyParameters(25),
    );
  });

  it('a spoiled header is refused by a clean close or answered well-formed; never a hang', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(spoiledHeader, async (header) => {
        const ex = await exchange(trusted.lmtpPort, SESSION, { preamble: header, done: saw221, maxMs: 5000 });
        const context = { header: header.toString('hex') };
        expectWellFormed(ex, context, [true, true]);
        expect({ ended: ex.closedByServer || lastCode(ex) === 221, context }).toEqual({ ended: true, context });
      }),
      propertyParameters(60),
    );
  });

  it('any header bytes from an untrusted peer: closed or answered well-formed, never honoured', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(validHeader, spoiledHeader), async (header) => {
        const ex = await exchange(untrusted.lmtpPort, SESSION, { preamble: header, done: saw221, maxMs: 5000 });
        const context = { header: header.toString('hex') };
        expectWellFormed(ex, context, [true, true]);
        expect({ ended: ex.closedByServer || lastCode(ex) === 221, context }).toEqual({ ended: true, context });
        if (looksLikeProxyHeader(header)) {
          // A forged client address: the connection is dropped before any command is read.
          expect({ closed: ex.closedByServer, replies: ex.lines.length, context }).toEqual({ closed: true, replies: expect.toSatisfy((n: number) => n <= 1), context });
        }
      }),
      propertyParameters(30),
    );
  });
});
