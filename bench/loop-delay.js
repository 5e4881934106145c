// Preloaded into the bench's servers (node --import): how long their event loop was held up, per
// round. A 1 ms timer's gaps, less that 1 ms, are the time the loop was busy elsewhere (requests,
// GC, the click writer): what the server itself adds to a request's latency, apart from the load
// generator's queueing. SIGUSR2 prints the figures since the last SIGUSR2 as one line and starts again.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 1;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
const blockedMs = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

process.on('SIGUSR2', () => {
  const figures = { p50: blockedMs(delay.percentile(50)), p99: blockedMs(delay.percentile(99)), p999: blockedMs(delay.percentile(99.9)), max: blockedMs(delay.max) };
  process.stdout.write(`loop-delay ${JSON.stringify(figures)}\n`);
  delay.reset();
});
