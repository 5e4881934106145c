// One autocannon run with its own exact accounting: every response's status and latency (float
// ms; autocannon's histogram keeps whole ms), time to the last response, and CPU use meanwhile.
//
// A time-boxed autocannon run ends by destroying its sockets with requests in flight, which the
// server may or may not have handled: fine for speed, useless for counting clicks. So at the
// deadline each connection is told to stop after the answer it is waiting for (autocannon's own
// per-connection request limit, set through setupClient), and the run ends when all have drained.
// `unanswered` (requests sent minus answers) shows whether that worked: 0 means the counts are exact.
import autocannon, { type Request } from 'autocannon';
import { busySeconds, cpuSeconds, runQueueWaitSeconds } from './procs.js';

export interface LoadSpec {
  url: string;
  /** Every connection goes round these, each from the first; or, with `requestsFor`, round its own. */
  requests: Request[];
  requestsFor?: (connection: number, connections: number) => Request[];
  connections: number;
  durationSec: number;
  /** Stop (drain, as at the deadline) once this many answers are in; durationSec stays a backstop. */
  stopAfter?: number;
  /** The server's pid, to measure its CPU share. */
  serverPid: number;
  /** Other processes of ours (Redis): their CPU is not counted as outside noise. */
  helperPids?: number[];
}

export interface LoadRun {
  completed: number;
  elapsedMs: number;
  rps: number;
  statusCounts: Record<string, number>;
  /** Socket errors and timeouts (autocannon's `errors`, which includes timeouts). */
  socketErrors: number;
  timeouts: number;
  /** Requests sent that got no answer: the server may have handled them uncounted. */
  unanswered: number;
  /** Of the requests sent once every connection had its first answer (see runLoad). */
  latencies: Float64Array;
  /** For a gateway: clicks it wrote to Redis while the load ran (the answers, less its backlog's growth). */
  clicksStored?: number;
  /** CPU use in % of one core while the load ran: this process, the server, our helpers (Redis), and everything else on the host. */
  loadgenCpuPct: number;
  serverCpuPct: number | null;
  helperCpuPct: number | null;
  otherCpuPct: number | null;
  /** % of the time the server's main thread was ready to run but had no CPU: core contention. */
  serverWaitPct: number | null;
  /** How busy each core was while the load ran, in %, by core number: which one set the pace. */
  coreBusyPct: number[] | null;
}

/** The part of autocannon's per-connection client the drain touches. */
interface Client {
  reqsMade: number;
  responseMax?: number;
  setRequests(requests: Request[]): void;
}

function cpuSample(spec: LoadSpec) {
  const self = process.cpuUsage();
  let helpers: number | null = 0;
  for (const pid of spec.helperPids ?? []) {
    const used = cpuSeconds(pid);
    helpers = helpers === null || used === null ? null : helpers + used;
  }
  return {
    self: (self.user + self.system) / 1e6,
    server: cpuSeconds(spec.serverPid),
    serverWait: runQueueWaitSeconds(spec.serverPid),
    helpers,
    busy: busySeconds(),
  };
}

/**
 * One request that autocannon builds afresh each time, from the next of `requests` in turn.
 * Given the list itself, autocannon builds every request once and sends the built ones round: with
 * 1,000 per connection, each of its scavenges here kept about 2 MB and paused it for 10 to 18 ms,
 * every 70 to 100 ms, which the bench measured as latency (the bare baseline's p99 read 20 to 30 ms;
 * 5 to 9 ms built per request, whose scavenges keep about 40 KB and take 1 ms). See bench/README.md.
 */
function roundOf(requests: Request[]): Request {
  let next = 0;
  return {
    setupRequest: (building) => {
      const request = requests[next] as Request;
      next = (next + 1) % requests.length;
      return { ...building, ...request, headers: { ...building.headers, ...request.headers } };
    },
  };
}

export function runLoad(spec: LoadSpec): Promise<LoadRun> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let recorded = 0;
  // autocannon takes its connections' first answers one by one, about 10 ms apart here, so the last
  // of them waited most of a second in the load generator, for the baseline as for the gateway: a
  // latency counts once every connection has had its first answer.
  const answered = new Set<unknown>();
  let steadyFrom = Infinity;
  let lastAt = 0;
  const clients: Client[] = [];
  // The clock starts once autocannon has built its connections and requests (that takes a while
  // with many connections × many paths), so set-up does not count as serving time.
  let first = cpuSample(spec);
  let startedAt = performance.now();
  let drain: ReturnType<typeof setTimeout> | undefined;
  let draining = false;
  const startDrain = () => {
    clearTimeout(drain);
    for (const client of clients) client.responseMax = Math.max(1, client.reqsMade);
    draining = true;
  };
  let last: ReturnType<typeof cpuSample> | null = null;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        requests: spec.requests,
        timeout: 10,
        // A backstop only: the drain below normally ends the run long before.
        duration: spec.durationSec + 30,
        setupClient: (client: Client) => {
          clients.push(client);
          // Called as each connection is made, before its first request: each gets its own round.
          if (spec.requestsFor !== undefined) client.setRequests([roundOf(spec.requestsFor(clients.length - 1, spec.connections))]);
        },
      },
      (error, result) => {
        clearTimeout(drain);
        if (error !== null) return reject(error);
        const end = last ?? cpuSample(spec);
        const elapsedMs = (lastAt || performance.now()) - startedAt;
        const pct = (a: number | null, b: number | null) => (a === null || b === null ? null : ((b - a) * 1e5) / elapsedMs);
        const loadgen = pct(first.self, end.self) ?? 0;
        const server = pct(first.server, end.server);
        const host = pct(first.busy?.host ?? null, end.busy?.host ?? null);
        const helpers = pct(first.helpers, end.helpers);
        const statusCounts: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = count;
        resolve({
          completed: n,
          elapsedMs,
          rps: (n / elapsedMs) * 1000,
          statusCounts,
          socketErrors: result.errors,
          timeouts: result.timeouts,
          unanswered: Math.max(0, result.requests.sent - n),
          latencies: latencies.subarray(0, recorded),
          loadgenCpuPct: loadgen,
          serverCpuPct: server,
          helperCpuPct: (spec.helperPids ?? []).length === 0 ? null : helpers,
          serverWaitPct: pct(first.serverWait, end.serverWait),
          otherCpuPct: host === null || server === null || helpers === null ? null : Math.max(0, host - loadgen - server - helpers),
          coreBusyPct: first.busy === null || end.busy === null ? null : end.busy.cores.map((busy, core) => pct(first.busy?.cores[core] ?? null, busy) ?? 0),
        });
      },
    );
    instance.on('response', (client: unknown, _status: number, _bytes: number, ms: number) => {
      n++;
      lastAt = performance.now();
      if (steadyFrom === Infinity) {
        answered.add(client);
        if (answered.size === spec.connections) steadyFrom = lastAt;
      } else if (lastAt - ms >= steadyFrom) {
        if (recorded === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[recorded++] = ms;
      }
      if (!draining && spec.stopAfter !== undefined && n >= spec.stopAfter) startDrain();
      // At most one answer per connection after the deadline: the last one closes the CPU window.
      if (draining) last = cpuSample(spec);
    });
    instance.once('start', () => {
      first = cpuSample(spec);
      startedAt = performance.now();
      drain = setTimeout(startDrain, spec.durationSec * 1000);
    });
  });
}

/** p-th percentile (0..100) of sorted samples, nearest rank. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

export function concatSorted(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all.sort();
}

/** Responses outside [okFrom, okTo] plus socket errors. */
export function errorCount(run: LoadRun, okFrom: number, okTo: number): number {
  let bad = run.socketErrors;
  for (const [code, count] of Object.entries(run.statusCounts)) {
    const status = Number(code);
    if (status < okFrom || status > okTo) bad += count;
  }
  return bad;
}
