import { describe, expect, it } from 'vitest';
import { caseName, cpuMsPerMessage, engineRatio, ratioFor, ratioOverRounds, renderTable, type CaseResult } from '../../bench/report.js';

/** A finished case with the figures the report reads; everything else empty. */
function result(server: CaseResult['server'], msgsPerSecond: number, extra: Partial<CaseResult> = {}): CaseResult {
  return {
    server, size: 4096, protocol: 'LMTP', messages: msgsPerSecond * 10, seconds: 10, msgsPerSecond,
    payloadMiBPerSecond: 0, serverProcess: null, stored: null, storedLatencyEntries: null, latency: null,
    latencyNote: null, command: '', batches: 1, error: null, ...extra,
  };
}

const cpu = (cpuSeconds: number): CaseResult['serverProcess'] => ({ cpuSeconds, wallSeconds: 10, cpuPercent: cpuSeconds * 10, peakRssMiB: 100, sampledPeakRssMiB: 100 });

describe('bench report', () => {
  it('takes each ratio within its own round, never pairing a case with another round\'s', () => {
    const cases = [
      result('hermod', 1000, { round: 1 }), result('reference', 2000, { round: 1 }),
      result('hermod', 1100, { round: 2 }), result('reference', 1000, { round: 2 }),
      result('hermod', 900, { round: 3 }), result('reference', 1500, { round: 3 }),
    ];
    expect(ratioFor(cases, 4096, 'embedded', 'reference', 2)).toBeCloseTo(1.1);
    const rounds = ratioOverRounds(3, (r) => ratioFor(cases, 4096, 'embedded', 'reference', r));
    expect(rounds.perRound.map((r) => r?.toFixed(2))).toEqual(['0.50', '1.10', '0.60']);
    expect(rounds.median).toBeCloseTo(0.6);
  });

  it('takes the median of the rounds that have both cases, and none when no round has', () => {
    const cases = [
      result('hermod', 300, { round: 1, engine: 'distributed' }), result('hermod', 1000, { round: 1 }),
      result('hermod', 200, { round: 2, engine: 'distributed' }), result('hermod', 1000, { round: 2 }),
      result('hermod', 0, { round: 3, engine: 'distributed', error: 'refused' }), result('hermod', 1000, { round: 3 }),
    ];
    const rounds = ratioOverRounds(3, (r) => engineRatio(cases, 4096, r));
    expect(rounds.perRound[2]).toBeNull();
    expect(rounds.median).toBeCloseTo(0.25);
    expect(ratioOverRounds(2, () => null).median).toBeNull();
  });

  it('reads a run without rounds as round 1, and names cases of a numbered round by it', () => {
    const cases = [result('hermod', 500), result('sink', 5000)];
    expect(ratioFor(cases, 4096)).toBeCloseTo(0.1);
    expect(caseName(cases[0])).toBe('hermod 4KiB');
    expect(caseName(result('reference', 1, { round: 2 }))).toBe('reference 4KiB #2');
  });

  it('prints CPU ms per message from the load window\'s CPU time and messages', () => {
    const c = result('hermod', 1000, { serverProcess: cpu(11.5) });
    expect(cpuMsPerMessage(c)).toBeCloseTo(1.15);
    expect(cpuMsPerMessage(result('sink', 1000))).toBeNull();
    const table = renderTable([c]).split('\n');
    expect(table[0]).toContain('CPU ms/msg');
    expect(table[2]).toContain(' 1.15 ');
  });
});
