import { describe, expect, it } from 'vitest';
import { AuthThrottle, clientKey, userKey } from '../../src/protocol/auth-throttle.js';

describe('AuthThrottle keys', () => {
  it('counts an IPv6 client per /64 and an IPv4 client (also IPv4-mapped) per address', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts a user under its mailbox, else lower case without +tag', () => {
    expect(userKey('al@example.test', 'Alice@example.test')).toBe('alice@example.test');
    expect(userKey('Bob+Lists@Example.test', null)).toBe('bob@example.test');
    expect(userKey('bob+x', null)).toBe('bob');
  });

  it('locks out the whole /64 once one address of it used up the client limit', () => {
    const throttle = new AuthThrottle({ perClient: 2, perUser: 100, windowMs: 60_000 });
    throttle.fail('2001:db8::1', 'a@x.test', 1000);
    throttle.fail('2001:db8::2', 'b@x.test', 1000);
    expect(throttle.blocked('2001:db8::ffff', 'c@x.test', 1001)).toBe(true);
    expect(throttle.blocked('2001:db8:0:1::1', 'c@x.test', 1001)).toBe(false);
    expect(throttle.blocked('2001:db8::ffff', 'c@x.test', 62_000)).toBe(false);
  });
});
