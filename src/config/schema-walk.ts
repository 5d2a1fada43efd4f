import type { z } from 'zod';

/** What a config key holds, as far as reading it from an environment variable cares. */
export type KeyKind = 'string' | 'list' | 'object' | 'other';

/** The parts of zod's internal definition this walk reads. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/**
 * The schema with its wrappers (defaults, optional, nullable, preprocess pipes) taken off. zod
 * keeps these as nested definitions, so the loader can find out what a key holds without a second
 * hand-kept list of keys that would drift from schema.ts.
 */
export function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 16; depth++) {
    const def = defOf(current);
    const next = def.type === 'pipe' ? def.out : def.innerType;
    if (!next) return current;
    current = next;
  }
  return current;
}

/** The schema of the key at `path` (records answer for any key), or undefined for an unknown key. */
export function schemaAt(root: z.ZodType, path: readonly (string | number)[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = unwrap(root);
  for (const part of path) {
    if (!current) return undefined;
    const def = defOf(current);
    if (def.type === 'object' && def.shape) current = def.shape[String(part)];
    else if (def.type === 'record' && def.valueType) current = def.valueType;
    else if (def.type === 'array' && def.element && typeof part === 'number') current = def.element;
    else return undefined;
    current = current ? unwrap(current) : undefined;
  }
  return current;
}

/** The keys an object schema at `path` accepts (empty when it is not an object with a fixed shape). */
export function keysAt(root: z.ZodType, path: readonly (string | number)[]): string[] {
  const schema = schemaAt(root, path);
  const def = schema ? defOf(schema) : undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** Whether the key at `path` holds a string, a list, a mapping or something else. */
export function kindAt(root: z.ZodType, path: readonly (string | number)[]): KeyKind {
  const schema = schemaAt(root, path);
  if (!schema) return 'other';
  const type = defOf(schema).type;
  if (type === 'string') return 'string';
  if (type === 'array') return 'list';
  if (type === 'object' || type === 'record') return 'object';
  return 'other';
}
