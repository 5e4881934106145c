// npm run bench: baseline vs gateway redirects, the merchant API's hot calls, click accounting.
// Settings (env): BENCH_ROUNDS=3 BENCH_DURATION=10 (s) BENCH_CONNECTIONS=64 BENCH_WARMUP=3 (s)
// BENCH_LINKS=1000 BENCH_API_DURATION=5 (s) BENCH_API_CONNECTIONS=8 BENCH_REDIS_URL (default:
// a throwaway redis-server; a given one gets links, merchants and clicks under the fixed hl: prefix).
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Request } from 'autocannon';
import { type LoadRun, runLoad } from './load.js';
import { assertAlive, crashed, killAllSync, markAllStopping, peakRssMb, setUpPinning, stopAll, stopChild } from './procs.js';
import { type Check, checkLine, type Row, summarise, table, writeJson } from './report.js';
import { TAP_MIX, tapsFor } from './taps.js';
import { countClicks, linkItem, type Server, setUpMerchant, startBaseline, startGateway, startRedis, waitForFlush } from './targets.js';

function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return value;
}

const settings = {
  rounds: setting('BENCH_ROUNDS', 3, 1, 20),
  durationSec: setting('BENCH_DURATION', 10, 1, 120),
  connections: setting('BENCH_CONNECTIONS', 64, 1, 1024),
  warmupSec: setting('BENCH_WARMUP', 3, 1, 60),
  links: setting('BENCH_LINKS', 1000, 1, 100_000),
  apiDurationSec: setting('BENCH_API_DURATION', 5, 1, 60),
  apiConnections: setting('BENCH_API_CONNECTIONS', 8, 1, 256),
};
const givenRedis = process.env.BENCH_REDIS_URL ?? '';
const notes: string[] = [];

let cleaning: Promise<void> | null = null;
const cleanUp = () => (cleaning ??= stopAll());
process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every child`);
    markAllStopping();
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  if (!existsSync(new URL('../dist/runtime/node.js', import.meta.url))) throw new Error('dist/runtime/node.js is missing: run npm run build');
  const pinning = setUpPinning();
  notes.push(`pinning: ${pinning.note}`);
  const serverCpu = pinning.enabled ? 0 : null;
  console.log(`bench: ${JSON.stringify(settings)}\nbench: ${pinning.note}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  let redisUrl = givenRedis;
  const helperPids: number[] = [];
  if (redisUrl === '') {
    // Redis shares core 1 with the load generator, so the gateway's core is its own, as when Redis is another host.
    const redis = await startRedis(pinning.enabled ? 1 : null);
    redisUrl = redis.url;
    helperPids.push(redis.child.pid);
    notes.push('redis: throwaway redis-server (no persistence) on core 1, next to the load generator');
  } else {
    notes.push('redis: BENCH_REDIS_URL given; the gateway writes under its fixed "hl:" prefix, so this run leaves a bench merchant, its links and clicks there');
  }
  const baseline = await startBaseline(serverCpu);
  const gateway = await startGateway(redisUrl, serverCpu);
  const merchant = await setUpMerchant(gateway.url, settings.links);
  console.log(`bench: merchant ${merchant.id} with ${merchant.codes.length} links`);

  // Each connection goes round every link from its own offset: all 64 in step on the same few links
  // would measure a link cache defeated by the bench (each link idle for a whole round), not the gateway.
  const requestsFor = (connection: number, connections: number) => tapsFor(merchant.codes, connection, connections);
  notes.push(TAP_MIX);
  let served302 = 0;
  let unanswered = 0;
  const tap = async (name: string, server: Server, durationSec: number): Promise<LoadRun> => {
    const run = await runLoad({ url: server.url, requests: [], requestsFor, connections: settings.connections, durationSec, serverPid: server.child.pid, helperPids });
    assertAlive();
    if (server === gateway) {
      served302 += run.statusCounts['302'] ?? 0;
      unanswered += run.unanswered;
    }
    console.log(`${name}: ${run.rps.toFixed(0)} req/s over ${(run.elapsedMs / 1000).toFixed(1)} s`);
    return run;
  };

  for (const [name, server] of [['baseline', baseline], ['gateway', gateway]] as const) await tap(`warm-up ${name}`, server, settings.warmupSec);
  // Alternate the two, so drift and noise land on both and show as a spread.
  const rounds = new Map<Server, LoadRun[]>([[baseline, []], [gateway, []]]);
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [name, server] of [['baseline', baseline], ['gateway', gateway]] as const) {
      rounds.get(server)?.push(await tap(`round ${round} ${name}`, server, settings.durationSec));
    }
  }
  const baselineRss = peakRssMb(baseline.child.pid);
  const gatewayRss = peakRssMb(gateway.child.pid);
  await stopChild(baseline.child);

  // Clicks: wait for the buffer to drain, then count what reached Redis.
  const backlog = await waitForFlush(gateway.url, 30_000);
  const clicks = await countClicks(redisUrl, merchant);
  if (clicks.classified) {
    const kinds = Object.entries(clicks.kinds).map(([kind, n]) => `${kind} ${((100 * n) / Math.max(1, clicks.sampled)).toFixed(0)}%`).join(', ');
    notes.push(`the gateway classified the taps (last ${clicks.sampled} in the stream): ${kinds}; the per-link counters hold the billable ones (unique, repeat)`);
  }
  console.log(`clicks: ${clicks.stream} in the stream (per-link counters ${clicks.counters}), ${served302} redirects served, backlog ${JSON.stringify(backlog)}`);

  // Merchant API: a second of warm-up, then the measured run.
  const auth = { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/json' };
  const bulkBody = JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => linkItem(i, 'bench-api')) });
  // The funnel per link and day over the last week: every link's counters, 8 day buckets each.
  const weekAgo = new Date(Date.now() - 7 * 24 * 3600_000).toISOString();
  const statsPath = `/v1/stats?groupBy=link&interval=day&from=${encodeURIComponent(weekAgo)}&to=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`;
  const api: { target: string; note?: string; requests: Request[] }[] = [
    { target: 'POST /v1/links', requests: [{ method: 'POST', path: '/v1/links', headers: auth, body: JSON.stringify(linkItem(1, 'bench-api')) }] },
    { target: 'POST /v1/links/bulk', note: '100 links/req', requests: [{ method: 'POST', path: '/v1/links/bulk', headers: auth, body: bulkBody }] },
    { target: 'GET /v1/links?limit=50', requests: [{ method: 'GET', path: '/v1/links?limit=50', headers: auth }] },
    { target: 'GET /v1/stats', note: `groupBy=link, interval=day, a week, ${merchant.codes.length} links`, requests: [{ method: 'GET', path: statsPath, headers: auth }] },
  ];
  const apiRows: Row[] = [];
  for (const call of api) {
    const spec = { url: gateway.url, requests: call.requests, connections: settings.apiConnections, serverPid: gateway.child.pid, helperPids };
    await runLoad({ ...spec, durationSec: 1 }); // warm-up
    const run = await runLoad({ ...spec, durationSec: settings.apiDurationSec });
    assertAlive();
    console.log(`api ${call.target}: ${run.rps.toFixed(0)} req/s`);
    apiRows.push({ target: call.target, ok: [200, 299], runs: [run], peakRssMb: null, ...(call.note === undefined ? {} : { note: call.note }) });
  }
  const gatewayRssAfterApi = peakRssMb(gateway.child.pid);
  for (const row of apiRows) row.peakRssMb = gatewayRssAfterApi;
  notes.push(`merchant API rate limit raised to ${process.env.HANGLINK_API_RATE_LIMIT ?? '1000000'}/min for the bench (HANGLINK_API_RATE_LIMIT); its per-request Redis count is still paid`);
  notes.push(`peak RSS is VmHWM: gateway ${gatewayRssAfterApi?.toFixed(0) ?? '-'} MB after the API runs (shown on API rows), ${gatewayRss?.toFixed(0) ?? '-'} MB after the redirect rounds`);

  const gatewayExit = await stopChild(gateway.child, 25_000);

  const baseSummary = summarise({ target: 'baseline node:http 302', ok: [300, 399], runs: rounds.get(baseline) ?? [], peakRssMb: baselineRss }, null);
  const gateSummary = summarise({ target: 'gateway GET /:code', ok: [300, 399], runs: rounds.get(gateway) ?? [], peakRssMb: gatewayRss }, baseSummary.rpsMean);
  const summaries = [baseSummary, gateSummary, ...apiRows.map((row) => summarise(row, null))];
  const noisy = Math.max(...summaries.map((x) => x.otherCpuPct ?? 0));
  const waited = Math.max(...summaries.map((x) => x.serverWaitPct ?? 0));
  if (waited > 10) notes.push(`the server's main thread waited for its core up to ${waited.toFixed(0)}% of the time ("srv wait%"): its core was shared (GC threads, other processes)`);
  if (noisy > 10) notes.push(`other processes used up to ${noisy.toFixed(0)}% of a core during the runs (column "other CPU%"): figures are noisy`);
  if (baseSummary.loadgenCpuPct > 90) notes.push(`the load generator used ${baseSummary.loadgenCpuPct.toFixed(0)}% of its core during baseline rounds: the baseline figure is a lower bound, the ratio an upper bound`);

  // Every tap the gateway answered is one stream entry: exact unless a request went unanswered
  // (socket error or timeout), which the gateway may have taken. The per-link counters must match
  // too, unless the gateway classifies taps (then they hold only the billable ones).
  const within = (count: number) => count >= served302 && count <= served302 + unanswered;
  const countersOk = clicks.classified ? clicks.counters <= clicks.stream : within(clicks.counters);
  const clickDetail =
    `${clicks.stream} stream entries, ${clicks.counters} in per-link counters${clicks.classified ? ' (billable taps only)' : ''}, ` +
    `${served302} redirects served (incl. warm-up), buffered ${backlog.buffered}, dropped ${backlog.dropped}, ${unanswered} taps unanswered`;
  const checks: Check[] = [
    { name: 'clicks equal', pass: within(clicks.stream) && countersOk && backlog.buffered === 0 && backlog.dropped === 0, detail: clickDetail, hard: true },
    { name: 'gateway exits cleanly', pass: gatewayExit === 0 && crashed().length === 0, detail: `exit code ${gatewayExit}`, hard: true },
    { name: 'throughput ratio >= 0.60', pass: (gateSummary.ratio ?? 0) >= 0.6, detail: `${gateSummary.ratio?.toFixed(2)}`, hard: false },
    { name: 'gateway p99 <= 5 ms', pass: gateSummary.p99 <= 5, detail: `${gateSummary.p99.toFixed(2)} ms`, hard: false },
    { name: 'gateway p99.9 <= 20 ms', pass: gateSummary.p999 <= 20, detail: `${gateSummary.p999.toFixed(2)} ms`, hard: false },
  ];

  console.log(`\n${table(summaries)}\n`);
  for (const check of checks) console.log(checkLine(check));
  for (const note of notes) console.log(`note: ${note}`);
  const file = writeJson({
    at: new Date().toISOString(),
    settings,
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavgAtEnd: loadavg() },
    summaries,
    clicks: { ...clicks, served302, backlog },
    checks,
    notes,
  });
  console.log(`results: ${file}`);
  return checks.some((c) => c.hard && !c.pass) ? 1 : 0;
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? error.message : error);
    markAllStopping();
    await cleanUp();
    process.exit(2);
  },
);
