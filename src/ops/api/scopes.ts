import { InputError } from '../../errors.js';

/** The resources of the admin API; each has a `:read` and a `:write` scope. */
export const RESOURCES = ['domains', 'mailboxes', 'messages', 'queue', 'spam', 'index'] as const;

/** `domains:read` … `index:write`. */
export type Scope = `${(typeof RESOURCES)[number]}:${'read' | 'write'}`;

/** Every scope; `read` and `all` are shorthands a token may be given. */
export const SCOPES: readonly Scope[] = RESOURCES.flatMap((r) => [`${r}:read`, `${r}:write`] as Scope[]);

/**
 * The scopes named by `--scope` values (comma-separated or repeated): `read` is every `:read`
 * scope, `all` is every scope. Sorted, without duplicates.
 * @throws InputError naming the unknown scope.
 */
export function parseScopes(values: readonly string[]): Scope[] {
  const out = new Set<Scope>();
  for (const value of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    const scope = value.toLowerCase();
    if (scope === 'all') SCOPES.forEach((s) => out.add(s));
    else if (scope === 'read') SCOPES.filter((s) => s.endsWith(':read')).forEach((s) => out.add(s));
    else if ((SCOPES as readonly string[]).includes(scope)) out.add(scope as Scope);
    else throw new InputError(`--scope: unknown scope "${value}" (one of read, all, ${SCOPES.join(', ')})`);
  }
  if (out.size === 0) throw new InputError('--scope: give at least one scope, e.g. --scope read or --scope queue:write');
  return [...out].sort();
}
