/**
 * The authserv-id of an Authentication-Results value (RFC 8601 §2.2: `mx.example.org 1; spf=pass …`
 * → `mx.example.org`), lower case: leading white space and (unnested) comments are skipped, then
 * the id runs up to `;`, white space or `(`. One forward pass, so linear in the value.
 */
export function authservIdOf(value: string): string {
  let i = 0;
  for (;;) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    if (value[i] !== '(') break;
    const close = value.indexOf(')', i);
    if (close < 0) return '';
    i = close + 1;
  }
  let end = i;
  while (end < value.length && value[end] !== ';' && value[end] !== ' ' && value[end] !== '\t' && value[end] !== '(') end++;
  return value.slice(i, end).toLowerCase();
}
