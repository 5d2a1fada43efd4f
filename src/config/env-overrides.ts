import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { kindAt } from './schema-walk.js';

/** Config values taken from HERMOD_* variables, and which variable set which key. */
export interface EnvOverrides {
  values: Record<string, unknown>;
  /** Dotted key path (`lmtp.port`) → the variable that set it (`HERMOD_LMTP__PORT`). */
  sources: Map<string, string>;
}

/**
 * HERMOD_SMTP__PORT=2526 → { smtp: { port: 2526 } }. Only variables whose first part names a
 * top-level config key count: HERMOD_DEBUG, HERMOD_CONFIG, HERMOD_TEST_* and the service scripts'
 * HERMOD_REDIS_PORT and the like steer other things.
 *
 * The schema decides how a value is read, so the same text means the same thing for every key:
 * a string key takes the text as it is (a password of digits stays a string); a list key takes
 * `a,b,c` or a YAML flow list `[a, b]`; any other key is read as a YAML scalar (numbers, booleans).
 */
export function envOverrides(env: NodeJS.ProcessEnv, schema: z.ZodObject): EnvOverrides {
  const topLevel = new Set(Object.keys(schema.shape));
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith('HERMOD_') || raw === undefined) continue;
    const path = name.slice('HERMOD_'.length).toLowerCase().split('__').map(camelCase);
    if (!topLevel.has(path[0])) continue;
    let node = values;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      node = (typeof next === 'object' && next !== null ? next : (node[part] = {})) as Record<string, unknown>;
    }
    node[path[path.length - 1]] = readValue(raw, path, schema);
    sources.set(path.join('.'), name);
  }
  return { values, sources };
}

function readValue(raw: string, path: string[], schema: z.ZodObject): unknown {
  switch (kindAt(schema, path)) {
    case 'string':
      return raw;
    case 'list': {
      if (raw.trim().startsWith('[')) return yamlScalar(raw);
      const elementIsString = kindAt(schema, [...path, 0]) === 'string';
      return raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
        .map((part) => (elementIsString ? part : yamlScalar(part)));
    }
    default:
      return yamlScalar(raw);
  }
}

function yamlScalar(text: string): unknown {
  return parseDocument(text).toJS();
}

function camelCase(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
