import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = {
  '': 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i;

/**
 * Parses a byte size as an operator writes it: `1048576`, `1024K`, `500M`, `2G`, `1.5G`, `1T`
 * (binary units; an optional `B`/`iB` suffix is accepted, so `500MB` and `500MiB` also work).
 * `0` means unlimited where a quota is meant. Fractions are allowed only with a unit and are
 * rounded down to whole bytes.
 *
 * @throws InvalidArgumentError (commander) naming the rejected text, so the flag is named by commander.
 */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError('expected a size such as 1048576, 1024K, 500M or 2G');
  }
  const [, amount, unit] = match;
  if (unit === '' && amount.includes('.')) {
    throw new InvalidArgumentError('a size in bytes must be a whole number');
  }
  const bytes = Math.floor(Number(amount) * UNITS[unit.toUpperCase()]);
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError('size is too large');
  }
  return bytes;
}
