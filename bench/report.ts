// Turns runs into one table, the pass/fail checks and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { concatSorted, errorCount, type LoadRun, percentile } from './load.js';

export interface Row {
  target: string;
  /** Redirects count 3xx as success, API calls 2xx. */
  ok: [number, number];
  runs: LoadRun[];
  peakRssMb: number | null;
  /** Extra words after the target name, e.g. "100 links/req". */
  note?: string;
}

export interface Summary {
  target: string;
  note: string | undefined;
  rounds: number;
  rpsMean: number;
  rpsMin: number;
  rpsMax: number;
  p50: number;
  p99: number;
  p999: number;
  requests: number;
  errors: number;
  peakRssMb: number | null;
  serverCpuPct: number | null;
  /** CPU the server used per request answered, in µs (all its threads): its own cost, whichever core set the pace. */
  serverCpuUsPerRequest: number | null;
  loadgenCpuPct: number;
  redisCpuPct: number | null;
  otherCpuPct: number | null;
  serverWaitPct: number | null;
  /** How busy each core was, in %, by core number, mean of the rounds. */
  coreBusyPct: number[] | null;
  /** Clicks a gateway wrote to Redis per second while loaded, mean of the rounds; null for others. */
  storedPerSec: number | null;
  /** Per round the lower of req/s and clicks into Redis/s (what could last), mean of the rounds. */
  sustainedRps: number;
  /** sustainedRps over the baseline's req/s. */
  ratio: number | null;
  perRound: { rps: number; storedPerSec: number | null; completed: number; elapsedMs: number; p50: number; p99: number; p999: number; statusCounts: Record<string, number>; socketErrors: number; serverCpuPct: number | null; serverCpuUsPerRequest: number | null; loadgenCpuPct: number; redisCpuPct: number | null; otherCpuPct: number | null; serverWaitPct: number | null; coreBusyPct: number[] | null; unanswered: number }[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** µs of CPU per event, from a % of one core and the events per second meanwhile. */
export const cpuUsPer = (cpuPct: number | null, perSecond: number | null) =>
  cpuPct === null || perSecond === null || perSecond === 0 ? null : (cpuPct * 1e4) / perSecond;
const usPerRequest = (r: LoadRun) => cpuUsPer(r.serverCpuPct, r.rps);

/** Each core's busy share, averaged over the rounds; null if a round has none. */
function meanPerCore(rounds: (number[] | null)[]): number[] | null {
  if (rounds.length === 0 || rounds.includes(null)) return null;
  const known = rounds as number[][];
  return (known[0] as number[]).map((_, core) => mean(known.map((busy) => busy[core] ?? 0)));
}

export function summarise(row: Row, baselineRps: number | null): Summary {
  const rps = row.runs.map((r) => r.rps);
  const sorted = concatSorted(row.runs.map((r) => r.latencies));
  const known = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  const serverCpu = known(row.runs.map((r) => r.serverCpuPct));
  const otherCpu = known(row.runs.map((r) => r.otherCpuPct));
  const redisCpu = known(row.runs.map((r) => r.helperCpuPct));
  const serverWait = known(row.runs.map((r) => r.serverWaitPct));
  const serverUs = known(row.runs.map(usPerRequest));
  const storedOf = (r: LoadRun) => (r.clicksStored === undefined ? null : (r.clicksStored / r.elapsedMs) * 1000);
  const stored = known(row.runs.map(storedOf));
  const sustainedRps = mean(row.runs.map((r) => Math.min(r.rps, storedOf(r) ?? r.rps)));
  return {
    target: row.target,
    note: row.note,
    rounds: row.runs.length,
    rpsMean: mean(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    requests: row.runs.reduce((sum, r) => sum + r.completed, 0),
    errors: row.runs.reduce((sum, r) => sum + errorCount(r, row.ok[0], row.ok[1]), 0),
    peakRssMb: row.peakRssMb,
    serverCpuPct: serverCpu.length === 0 ? null : mean(serverCpu),
    serverCpuUsPerRequest: serverUs.length === 0 ? null : mean(serverUs),
    loadgenCpuPct: mean(row.runs.map((r) => r.loadgenCpuPct)),
    redisCpuPct: redisCpu.length === 0 ? null : mean(redisCpu),
    otherCpuPct: otherCpu.length === 0 ? null : mean(otherCpu),
    serverWaitPct: serverWait.length === 0 ? null : mean(serverWait),
    coreBusyPct: meanPerCore(row.runs.map((r) => r.coreBusyPct)),
    storedPerSec: stored.length === 0 ? null : mean(stored),
    sustainedRps,
    ratio: baselineRps === null ? null : sustainedRps / baselineRps,
    perRound: row.runs.map((r) => {
      const s = new Float64Array(r.latencies).sort();
      return {
        rps: r.rps,
        storedPerSec: storedOf(r),
        completed: r.completed,
        elapsedMs: r.elapsedMs,
        p50: percentile(s, 50),
        p99: percentile(s, 99),
        p999: percentile(s, 99.9),
        statusCounts: r.statusCounts,
        socketErrors: r.socketErrors,
        serverCpuPct: r.serverCpuPct,
        serverCpuUsPerRequest: usPerRequest(r),
        loadgenCpuPct: r.loadgenCpuPct,
        redisCpuPct: r.helperCpuPct,
        otherCpuPct: r.otherCpuPct,
        serverWaitPct: r.serverWaitPct,
        coreBusyPct: r.coreBusyPct,
        unanswered: r.unanswered,
      };
    }),
  };
}

const f = (x: number | null, digits: number) => (x === null || Number.isNaN(x) ? '-' : x.toFixed(digits));

/**
 * 'into Redis/s': clicks a gateway wrote to Redis while loaded. 'vs base': per round the lower of
 * req/s and that (a rate Redis does not keep up with cannot last), over the baseline's req/s.
 * CPU columns are % of one core while the load ran: server (all its threads), the time its main
 * thread waited for a CPU, load generator, the bench's Redis, and anything else on the host.
 * 'srv µs/req' is the server's CPU per request answered.
 */
export function table(summaries: Summary[]): string {
  const head = ['target', 'req/s mean', 'min–max', 'into Redis/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'vs base', 'peak RSS MB', 'srv CPU%', 'srv µs/req', 'srv wait%', 'lg CPU%', 'redis CPU%', 'other CPU%'];
  const rows = summaries.map((s) => [
    s.note === undefined ? s.target : `${s.target} (${s.note})`,
    f(s.rpsMean, 0),
    s.rounds > 1 ? `${f(s.rpsMin, 0)}–${f(s.rpsMax, 0)}` : '-',
    f(s.storedPerSec, 0),
    f(s.p50, 2),
    f(s.p99, 2),
    f(s.p999, 2),
    String(s.errors),
    s.ratio === null ? '' : f(s.ratio, 2),
    f(s.peakRssMb, 0),
    f(s.serverCpuPct, 0),
    f(s.serverCpuUsPerRequest, 1),
    f(s.serverWaitPct, 0),
    f(s.loadgenCpuPct, 0),
    f(s.redisCpuPct, 0),
    f(s.otherCpuPct, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
  /** A failed hard check makes the bench exit non-zero; speed targets are soft. */
  hard: boolean;
}

export const checkLine = (c: Check) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}${c.hard || c.pass ? '' : ' (target only, does not fail the run)'}`;

export function writeJson(data: unknown): string {
  const dir = new URL('results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${new Date().toISOString().replace(/:/g, '-')}.json`, dir);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file.pathname;
}
