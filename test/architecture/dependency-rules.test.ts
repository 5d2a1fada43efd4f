import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

/**
 * The room rules of .dependency-cruiser.cjs, checked on every test run: protocol ↛ store or
 * queue, queue ↛ protocol, plugins → only the plugin API and their own folder, store ↛ search,
 * search ↛ protocol, only the CLI imports src/cli, the mail room depends on no other, and no file cycles.
 */
function describeViolation(v: IViolation): string {
  const via = v.cycle?.length ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : '';
  return `${v.rule.name}: ${v.from} → ${v.to}${via}`;
}

describe('dependency rules', () => {
  it('holds for src/ and plugins/', async () => {
    const options = await extractDepcruiseOptions('./.dependency-cruiser.cjs');
    const rules = (options.ruleSet?.forbidden ?? []).map((r) => r.name);
    expect(rules).toEqual(
      expect.arrayContaining([
        'protocol-not-to-store',
        'protocol-not-to-queue',
        'queue-not-to-protocol',
        'plugins-only-to-plugin-api',
        'store-not-to-search',
        'search-not-to-protocol',
        'only-the-cli-imports-the-cli',
        'no-file-cycles',
      ]),
    );
    const tsConfig = extractTSConfig('tsconfig.json');
    const result = await cruise(['src', 'plugins'], { ...options, validate: true }, { extensions: ['.ts', '.js'] }, { tsConfig });
    const output = result.output as ICruiseResult;
    expect(output.summary.totalCruised).toBeGreaterThan(200);
    expect(output.summary.violations.map(describeViolation)).toEqual([]);
  });
});
