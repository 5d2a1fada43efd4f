import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';

const RULES = 'ops/prometheus/hermod-alerts.yml';
const RULE_TESTS = 'ops/prometheus/hermod-alerts.test.yml';
const DASHBOARD = 'ops/grafana/hermod-dashboard.json';

interface Target {
  refId: string;
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  if (run.error) throw new Error(`promtool: ${run.error.message} (install Debian's prometheus package: scripts/install-system-deps.sh)`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Grafana's variables replaced by values PromQL accepts, so promtool can parse the expression. */
function concrete(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
}

/** Metric names an expression reads: identifiers with a Hermod or Node prefix, and `up`. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const names = withoutStrings.match(/\b(?:hermod|process|nodejs)_[a-z0-9_]+\b|\bup\b/g) ?? [];
  return [...new Set(names)];
}

/** Every series name the live endpoint exports, with the _bucket/_sum/_count of histograms. */
function exportedNames(metrics: string): Set<string> {
  const names = new Set<string>();
  for (const line of metrics.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!match) continue;
    names.add(match[1]);
    if (match[2] === 'histogram' || match[2] === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(match[1] + s);
  }
  return names;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string }[] } };
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

let hermod: Harness;
let exported: Set<string>;

beforeAll(async () => {
  hermod = await startHermod({ ops: { enabled: true, port: 0 } });
  exported = exportedNames(await getText(hermod.server.ops!.port, '/metrics'));
});

afterAll(async () => {
  await hermod?.stop();
});

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const run = promtool('check', 'rules', RULES);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('pass their promtool unit tests (queue growing, not ready, indexer lag fire when they should)', () => {
    const run = promtool('test', 'rules', RULE_TESTS);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('cover queue growth, indexer lag, error rates and readiness, each with severity and summary', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['HermodQueueGrowing', 'HermodIndexerLag', 'HermodStoreErrors', 'HermodSearchErrors', 'HermodInboundFailureRate', 'HermodNotReady']),
    );
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });

  it('read only metrics a running Hermod exports', () => {
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) if (name !== 'up') expect(exported.has(name), `${rule.alert}: ${name}`).toBe(true);
    }
  });
});

describe('Grafana dashboard', () => {
  it('is a dashboard with a uid, an instance variable and panels that do not overlap', () => {
    expect(dashboard.uid).toBe('hermod-overview');
    expect(dashboard.templating.list.map((v) => v.name)).toContain('instance');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('has queries on every panel, on the Prometheus data source input', () => {
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const p of queryPanels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
    }
  });

  it('has expressions that are valid PromQL (checked by promtool as recording rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hermod-dashboard-'));
    try {
      const records = queryPanels.flatMap((p) => p.targets!.map((t) => ({ record: `dashboard:panel_${p.id}_${t.refId}`, expr: concrete(t.expr) })));
      const file = join(dir, 'dashboard-rules.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: records }] }));
      const run = promtool('check', 'rules', file);
      expect(run.output).toContain(`SUCCESS: ${records.length} rules found`);
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads only metrics a running Hermod exports', () => {
    for (const p of queryPanels) {
      for (const t of p.targets!) {
        const names = metricNames(t.expr);
        expect(names.length, p.title).toBeGreaterThan(0);
        for (const name of names) expect(exported.has(name), `${p.title}: ${name}`).toBe(true);
      }
    }
  });
});
