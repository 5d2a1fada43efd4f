import { InvalidArgumentError } from 'commander';
import { addressProblem } from '../admin/input-rules.js';

/** commander option parser for a repeatable address option (`--alias A --alias B`). */
export function collectAddress(value: string, previous: string[] | undefined): string[] {
  const problem = addressProblem(value);
  if (problem) throw new InvalidArgumentError(`the address ${problem}`);
  return [...(previous ?? []), value.toLowerCase()];
}

/** commander option parser for a positive whole number (`--limit 20`). */
export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number of 1 or more');
  }
  return Number(value);
}
