import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseScopes, SCOPES } from '../../src/ops/api/scopes.js';
import { TokenFile, tokenFilePath } from '../../src/ops/api/tokens.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hermod-tokens-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('admin API scopes', () => {
  it('expands read and all, accepts commas and repeats, sorts and dedupes', () => {
    expect(parseScopes(['read'])).toEqual(SCOPES.filter((s) => s.endsWith(':read')).sort());
    expect(parseScopes(['all'])).toHaveLength(SCOPES.length);
    expect(parseScopes(['queue:write,queue:read', 'Queue:Read'])).toEqual(['queue:read', 'queue:write']);
  });

  it('names an unknown or missing scope', () => {
    expect(() => parseScopes(['queue:admin'])).toThrow('--scope: unknown scope "queue:admin"');
    expect(() => parseScopes([','])).toThrow('--scope: give at least one scope');
  });
});

describe('admin token file', () => {
  it('verifies a created token, and nothing else of its shape', () => {
    const file = new TokenFile(join(dir, 'tokens.json'));
    const { token, info } = file.create(['queue:read'], 'ci');
    expect(token).toMatch(/^hermod_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(file.verify(token)).toMatchObject({ id: info.id, scopes: ['queue:read'] });
    const other = `hermod_${info.id}_${'A'.repeat(43)}`;
    expect(file.verify(other)).toBeNull();
    expect(file.verify(`${token}x`)).toBeNull();
    expect(file.verify('')).toBeNull();
    expect(file.list()).toEqual([info]);
  });

  it('refuses a token file that is not what Hermod wrote, naming the file and the place', () => {
    const path = join(dir, 'tokens.json');
    writeFileSync(path, '{"version":1,"tokens":[{"id":"x"}]}');
    expect(() => new TokenFile(path).list()).toThrow(`${path}: invalid admin token file at tokens.0.id`);
    writeFileSync(path, 'not json');
    expect(() => new TokenFile(path).list()).toThrow(`${path}: the admin token file is not JSON`);
  });

  it('lives under dataDir unless the path is absolute', () => {
    expect(tokenFilePath({ dataDir: '/srv/hermod', ops: { api: { tokensFile: 'admin-tokens.json' } } })).toBe('/srv/hermod/admin-tokens.json');
    expect(tokenFilePath({ dataDir: '/srv/hermod', ops: { api: { tokensFile: '/etc/hermod/tokens.json' } } })).toBe('/etc/hermod/tokens.json');
  });
});
