/**
 * The probe client of `npm run bench:hostile`, run in a worker thread: it opens a connection to
 * Hermod every `everyMs` and times the greeting. In its own thread, its timings do not include
 * the bench's own work on the main thread (sending a 50 MiB message through nodemailer held the
 * bench's event loop long enough to add hundreds of milliseconds to every probe).
 *
 * workerData: { port, everyMs }. It posts 'started' with its first probe under way. Post 'stop' to it; it answers { worst, count } and exits.
 */
import { createConnection } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { port, everyMs } = workerData;
const TIMEOUT_MS = 30_000;

/** Connects, waits for the first bytes (the greeting), says QUIT; resolves with the ms it took. */
function probeOnce() {
  const started = performance.now();
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const finish = () => {
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.end('QUIT\r\n');
      resolve(performance.now() - started);
    };
    sock.setTimeout(TIMEOUT_MS, finish);
    sock.once('data', finish);
    sock.once('error', finish);
  });
}

const pending = [probeOnce()];
const timer = setInterval(() => pending.push(probeOnce()), everyMs);
parentPort.postMessage('started');
parentPort.once('message', async () => {
  clearInterval(timer);
  const times = await Promise.all(pending);
  parentPort.postMessage({ worst: times.length ? Math.max(...times) : 0, count: times.length });
  parentPort.close();
});
