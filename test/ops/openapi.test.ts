import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROUTES } from '../../src/ops/api/admin-api.js';

const FILE = 'ops/openapi/hermod-admin-api.yaml';

interface Operation {
  'x-hermod-scope'?: string;
  operationId?: string;
}
const spec = parse(readFileSync(FILE, 'utf8')) as { openapi: string; paths: Record<string, Record<string, Operation>> };

/** "METHOD /path/:param" for each operation of the file, with its scope. */
const documented = new Map<string, string | undefined>();
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    documented.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, op['x-hermod-scope']);
  }
}

describe('OpenAPI description of the admin API', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const result = await new Validator().validate(FILE);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toMatch(/^3\./);
  });

  it('documents every endpoint the server routes, with the scope it checks', () => {
    for (const route of ROUTES) expect(documented.get(`${route.method} ${route.path}`), `${route.method} ${route.path}`).toBe(route.scope);
  });

  it('documents no endpoint the server lacks', () => {
    const served = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    expect([...documented.keys()].filter((k) => !served.has(k))).toEqual([]);
  });
});
