/**
 * `npm run bench -- --large`: what large messages cost Hermod's memory.
 *
 * Two cases, each against a fresh Hermod (embedded default, default plugin chain, maxMessageBytes
 * raised to 64 MiB so the sizes below are accepted):
 * - one 50 MiB message over LMTP: RSS growth (sampled peak during the delivery minus RSS before);
 * - four 25 MiB messages over four parallel LMTP sessions: peak RSS of the process (VmHWM).
 * Each figure is printed beside its goal. The messages are multipart with a base64 attachment (76
 * columns, as a mail client writes it), each with its own Message-Id so none is a duplicate.
 * Nothing is asserted on memory; the exit code is non-zero only when a delivery is not answered 250.
 */
import { randomBytes } from 'node:crypto';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { LOAD_MAILBOX, removeDir, startHermod } from './hermod-process.js';
import { ProcessSampler, statusMiB } from './process-stats.js';

const MiB = 1024 * 1024;
const GOAL_SINGLE_GROWTH_MiB = 100;
const GOAL_PARALLEL_PEAK_MiB = 300;
const LIMIT_KEYS = `maxMessageBytes: ${64 * MiB}`;

/** A multipart message of about `size` bytes: a short text part and a base64 attachment. */
export function largeMessage(size: number, id: string): Buffer {
  const head = [
    'From: Sender <sender@large.test>',
    `To: ${LOAD_MAILBOX}`,
    `Subject: large message ${id}`,
    `Message-Id: <${id}@large.test>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The attachment follows.',
    '--b1',
    'Content-Type: application/octet-stream; name="blob.bin"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="blob.bin"',
    '',
    '',
  ].join('\r\n');
  const tail = '\r\n--b1--\r\n';
  const lines = Math.max(1, Math.floor((size - head.length - tail.length) / 78));
  // One random 57-byte block per line would make the bench itself slow; a 1 MiB random pool,
  // walked with an offset, keeps every line different enough for any compressor on the way.
  const pool = randomBytes(MiB).toString('base64');
  const body = Buffer.allocUnsafe(lines * 78);
  for (let i = 0; i < lines; i++) {
    const at = (i * 76) % (pool.length - 76);
    body.write(pool.slice(at, at + 76), i * 78, 'latin1');
    body.write('\r\n', i * 78 + 76, 'latin1');
  }
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(tail, 'latin1')]);
}

/** Delivers raw bytes over one LMTP session; resolves with the reply line. */
async function deliverLmtp(port: number, raw: Buffer): Promise<string> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, lmtp: true, socketTimeout: 300_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => resolve());
    });
    return await new Promise<string>((resolve) => {
      conn.send({ from: 'sender@large.test', to: [LOAD_MAILBOX] }, raw, (err, info) => {
        if (err) resolve((err as Error & { response?: string }).response ?? err.message);
        else resolve(info.response ?? '');
      });
    });
  } finally {
    conn.quit();
  }
}

/** What one case measured. */
interface LargeResult {
  replies: string[];
  rssBeforeMiB: number;
  sampledPeakMiB: number;
  peakMiB: number;
}

/** Delivers `messages` in parallel (one session each) to a fresh Hermod and samples its RSS. */
async function runCase(messages: Buffer[], configLines: string[]): Promise<LargeResult> {
  const hermod = await startHermod(messages.length, configLines, true, LIMIT_KEYS);
  try {
    const rssBeforeMiB = statusMiB(hermod.pid, 'VmRSS');
    const sampler = new ProcessSampler(hermod.pid, 20);
    const replies = await Promise.all(messages.map((m) => deliverLmtp(hermod.port, m)));
    const stats = sampler.stop();
    return { replies, rssBeforeMiB, sampledPeakMiB: stats.sampledPeakRssMiB, peakMiB: stats.peakRssMiB };
  } finally {
    await hermod.stop();
    removeDir(hermod.dir);
  }
}

const verdict = (ok: boolean): string => (ok ? 'ok' : 'OVER');
const fmt = (n: number): string => n.toFixed(0).padStart(4);

/** The chains measured: the default one, and none (intake, spool and store alone). */
const PROFILES: { name: string; lines: string[] }[] = [
  { name: 'default chain', lines: [] },
  { name: 'no plugins   ', lines: ['plugins: []'] },
];

/** Runs both cases per profile and prints the figures beside their goals; returns the count of refused deliveries. */
export async function runLargeBench(): Promise<number> {
  console.log('bench --large: memory of large messages over LMTP, a fresh Hermod per case and chain');
  const replies: string[] = [];
  for (const profile of PROFILES) {
    const single = await runCase([largeMessage(50 * MiB, `single-${Date.now()}`)], profile.lines);
    const growth = Math.max(0, single.sampledPeakMiB - single.rssBeforeMiB);
    console.log(
      `${profile.name}  1 × 50 MiB    RSS before ${fmt(single.rssBeforeMiB)} MiB, peak ${fmt(single.sampledPeakMiB)} MiB, ` +
        `growth ${fmt(growth)} MiB   goal < ${GOAL_SINGLE_GROWTH_MiB} MiB growth  ${verdict(growth < GOAL_SINGLE_GROWTH_MiB)}   reply ${single.replies[0].trim().slice(0, 9)}`,
    );
    const four = await runCase([0, 1, 2, 3].map((i) => largeMessage(25 * MiB, `parallel-${i}-${Date.now()}`)), profile.lines);
    console.log(
      `${profile.name}  4 × 25 MiB ∥  RSS before ${fmt(four.rssBeforeMiB)} MiB, peak ${fmt(four.peakMiB)} MiB (VmHWM)    ` +
        `goal < ${GOAL_PARALLEL_PEAK_MiB} MiB peak    ${verdict(four.peakMiB < GOAL_PARALLEL_PEAK_MiB)}   replies ${four.replies.map((r) => r.trim().slice(0, 3)).join(' ')}`,
    );
    replies.push(...single.replies, ...four.replies);
  }
  const refused = replies.map((r) => r.trim()).filter((r) => !/^250[ -]/.test(r));
  if (refused.length) console.log(`${refused.length} delivery(ies) not answered 250: ${[...new Set(refused)].join(' | ')}`);
  return refused.length;
}
