// npm run bench: baseline vs gateway redirects, the merchant API's hot calls, click accounting.
// Settings (env): BENCH_ROUNDS=3 BENCH_DURATION=10 (s) BENCH_CONNECTIONS=64 BENCH_WARMUP=3 (s)
// BENCH_LINKS=1000 BENCH_API_DURATION=5 (s) BENCH_API_CONNECTIONS=8 BENCH_REDIS_URL (default:
// a throwaway redis-server; a given one gets links, merchants and clicks under the fixed hl: prefix).
// BENCH_COLD_STARTS=3: fresh gateways timed from spawn to their first 302 (0 skips).
// Opt-in: BENCH_LINKS_LARGE=1000000 seeds that many more links into Redis, then rounds tap as many of
// them as the 1,000-link rounds do, drawn at random, the same way; BENCH_SOAK=5000000 drives that many redirects at a
// fresh gateway and compares its RSS with that after BENCH_SOAK_EARLY (default a tenth of it).
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Request } from 'autocannon';
import { type LoadRun, runLoad } from './load.js';
import { assertAlive, crashed, killAllSync, markAllStopping, type Pinning, peakRssMb, rssMb, setUpPinning, stopAll, stopChild } from './procs.js';
import { type Check, checkLine, cpuUsPer, type Row, summarise, type Summary, table, writeJson } from './report.js';
import { TAP_MIX, tapsFor } from './taps.js';
import {
  type Backlog,
  backlogOf,
  clickFootprint,
  coldStart,
  countClicks,
  gatewayEntry,
  linkItem,
  removeEmptySpools,
  scriptCalls,
  seedLinks,
  type Server,
  setUpMerchant,
  startBaseline,
  startGateway,
  startRedis,
  TAP_HEADERS,
  usedMemory,
  waitForFlush,
} from './targets.js';

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
  coldStarts: setting('BENCH_COLD_STARTS', 3, 0, 20),
  linksLarge: setting('BENCH_LINKS_LARGE', 0, 0, 10_000_000),
  soak: setting('BENCH_SOAK', 0, 0, 100_000_000),
  soakEarly: 0,
};
settings.soakEarly = setting('BENCH_SOAK_EARLY', Math.round(settings.soak / 10), 0, Math.max(0, settings.soak - 1));
const fmt = (n: number) => n.toLocaleString('en-US');
const givenRedis = process.env.BENCH_REDIS_URL ?? '';
const notes: string[] = [];

let cleaning: Promise<void> | null = null;
const cleanUp = () => (cleaning ??= stopAll());
process.on('exit', () => {
  killAllSync();
  removeEmptySpools();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every child`);
    markAllStopping();
    void cleanUp().finally(() => process.exit(130));
  });
}

/**
 * Runs a load; for a gateway, also counts the clicks it wrote to Redis meanwhile: its answers less
 * the growth of its backlog (memory and spool). Fewer than it answered means Redis fell behind, and
 * the req/s it answered could not last.
 */
async function gatewayLoad(gateway: Server | null, load: () => Promise<LoadRun>): Promise<LoadRun> {
  if (gateway === null) {
    const run = await load();
    assertAlive();
    return run;
  }
  const before = await backlogOf(gateway.url);
  const run = await load();
  assertAlive();
  const after = await backlogOf(gateway.url);
  const backlog = (b: Backlog) => b.buffered + b.spooled + b.dropped;
  return { ...run, clicksStored: (run.statusCounts['302'] ?? 0) - (backlog(after) - backlog(before)) };
}

const storedNote = (run: LoadRun) =>
  run.clicksStored === undefined ? '' : `, ${((run.clicksStored / run.elapsedMs) * 1000).toFixed(0)} clicks/s into Redis`;

const cpuRatio = (baseline: Summary, gateway: Summary) =>
  baseline.serverCpuUsPerRequest === null || gateway.serverCpuUsPerRequest === null ? '-' : (baseline.serverCpuUsPerRequest / gateway.serverCpuUsPerRequest).toFixed(2);

/**
 * Which core set the gateway's pace. When another core is busier than the server's (on two cores
 * Redis shares the load generator's), the gateway's req/s is what that core allowed, and the
 * server's CPU per redirect is the figure that tells what the gateway's own core could carry.
 */
function paceNotes(baseline: Summary, gateway: Summary, pinning: Pinning, ownRedis: boolean): string[] {
  const notes: string[] = [];
  const us = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)} µs`);
  notes.push(
    `CPU per redirect: gateway ${us(gateway.serverCpuUsPerRequest)}, baseline ${us(baseline.serverCpuUsPerRequest)} (ratio ${cpuRatio(baseline, gateway)}); ` +
      `Redis ${us(cpuUsPer(gateway.redisCpuPct, gateway.storedPerSec))} per click; the load generator ${us(cpuUsPer(gateway.loadgenCpuPct, gateway.rpsMean))} per request (gateway rounds)`,
  );
  const busy = gateway.coreBusyPct;
  if (pinning.serverCore === null || pinning.loadgenCore === null || pinning.redisCore === null || busy === null) return notes;
  const roles = new Map<number, string[]>([[pinning.serverCore, ['the server']], [pinning.loadgenCore, ['load generator']]]);
  if (ownRedis) roles.set(pinning.redisCore, [...(roles.get(pinning.redisCore) ?? []), 'Redis']);
  const shares = [...roles].map(([core, names]) => ({ core, names: names.join(' and '), busy: busy[core] ?? 0 }));
  const busiest = shares.reduce((a, b) => (b.busy > a.busy ? b : a));
  const paced = busiest.core !== pinning.serverCore && busiest.busy >= 85 && busiest.busy > (busy[pinning.serverCore] ?? 0) + 5;
  notes.push(
    `gateway rounds: ${shares.map((s) => `core ${s.core} (${s.names}) busy ${s.busy.toFixed(0)}%`).join(', ')}` +
      (paced ? `: core ${busiest.core} set the pace, not the gateway; compare "srv µs/req" for what the gateway costs its own core` : ''),
  );
  return notes;
}

async function main(): Promise<number> {
  if (!existsSync(gatewayEntry)) throw new Error(`${gatewayEntry} is missing: run npm run build`);
  const pinning = setUpPinning();
  notes.push(`pinning: ${pinning.note}`);
  const serverCpu = pinning.serverCore;
  console.log(`bench: ${JSON.stringify(settings)}\nbench: ${pinning.note}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  let redisUrl = givenRedis;
  const helperPids: number[] = [];
  if (redisUrl === '') {
    const redis = await startRedis(pinning.redisCore);
    redisUrl = redis.url;
    helperPids.push(redis.child.pid);
    const where = pinning.redisCore === null ? 'unpinned' : pinning.redisCore === 1 ? 'on core 1, next to the load generator (two cores)' : `on core ${pinning.redisCore}, its own`;
    notes.push(`redis: throwaway redis-server (no persistence) ${where}`);
  } else {
    notes.push('redis: BENCH_REDIS_URL given; the gateway writes under its fixed "hl:" prefix, so this run leaves a bench merchant, its links and clicks there');
  }
  // Both run as deployed, with nothing preloaded: with a module preloaded (--import or --require, even
  // an empty one) and without the deployed node flag, the gateway that minted the links ran 7 to 13 µs
  // slower a redirect in 11 of 18 paired runs, its GC threads doing twice the work (bench/README.md).
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
  const tap = async (name: string, server: Server, durationSec: number, requests = requestsFor): Promise<LoadRun> => {
    const run = await gatewayLoad(server === baseline ? null : server, () =>
      runLoad({ url: server.url, requests: [], requestsFor: requests, connections: settings.connections, durationSec, serverPid: server.child.pid, helperPids }),
    );
    if (server !== baseline) {
      served302 += run.statusCounts['302'] ?? 0;
      unanswered += run.unanswered;
    }
    console.log(`${name}: ${run.rps.toFixed(0)} req/s over ${(run.elapsedMs / 1000).toFixed(1)} s${storedNote(run)}`);
    return run;
  };

  // From here until the clicks are counted, the only scripts Redis runs are the gateway's click writes.
  const scriptCallsBefore = await scriptCalls(redisUrl);
  const memoryBefore = await usedMemory(redisUrl);
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

  // Clicks: wait for the buffer to drain, then count what reached Redis.
  const backlog = await waitForFlush(gateway.url, 30_000);
  const clickWrites = (await scriptCalls(redisUrl)) - scriptCallsBefore;
  const clicks = await countClicks(redisUrl, merchant);
  // The redirect rounds' taps, before the extra modes add theirs.
  const mainServed302 = served302;
  const mainUnanswered = unanswered;
  if (clicks.classified) {
    const kinds = Object.entries(clicks.kinds).map(([kind, n]) => `${kind} ${((100 * n) / Math.max(1, clicks.sampled)).toFixed(0)}%`).join(', ');
    notes.push(`the gateway classified the taps (last ${clicks.sampled} in the stream): ${kinds}; the per-link counters hold the billable ones (unique, repeat)`);
  }
  console.log(`clicks: ${clicks.stream} in the stream (per-link counters ${clicks.counters}), ${served302} redirects served, backlog ${JSON.stringify(backlog)}`);
  const footprint = await clickFootprint(redisUrl, merchant);
  notes.push(
    `Redis memory: used_memory grew ${Math.round(((await usedMemory(redisUrl)) - memoryBefore) / Math.max(1, clicks.stream))} bytes a click over the redirect rounds; ` +
      `MEMORY USAGE gives a stream entry ${footprint.streamEntry.toFixed(0)} bytes (kept until trimmed), a click's marker ${footprint.marker.toFixed(0)} (8 days), ` +
      `a visitor's state on a link ${footprint.visit.toFixed(0)} (the repeat window and a minute)`,
  );
  notes.push(
    `Redis took the redirect rounds' clicks in ${clickWrites} script calls, ${(served302 / Math.max(1, clickWrites)).toFixed(0)} clicks a call` +
      (givenRedis === '' ? '' : ` (or more: BENCH_REDIS_URL may be shared, and other clients' scripts count too)`),
  );

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

  // Cost flat in the size of the data: many more links in Redis, a round tapping a random spread of them.
  let large: {
    links: number; tapped: number; seedMs: number; seedPerSec: number; checkedCode: string; runs: LoadRun[]; baselineRuns: LoadRun[]; peakRssMb: number | null;
  } | null = null;
  const extraCodes: string[] = [];
  if (settings.linksLarge > 0) {
    const seedStart = performance.now();
    let lastReport = seedStart;
    const codes = await seedLinks(redisUrl, merchant.id, settings.linksLarge, (done) => {
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        console.log(`large: ${fmt(done)} links seeded (${((lastReport - seedStart) / 1000).toFixed(0)} s)`);
      }
    });
    const seedMs = performance.now() - seedStart;
    console.log(`large: ${fmt(codes.length)} links seeded into Redis in ${(seedMs / 1000).toFixed(1)} s (${fmt(Math.round(codes.length / (seedMs / 1000)))} links/s: the store's keys and link JSON, MSET and ZADD in pipelines)`);
    // One seeded link, the last written, must redirect where it says.
    const checkedCode = codes.at(-1) as string;
    const answer = await fetch(`${gateway.url}/${checkedCode}`, { redirect: 'manual', headers: TAP_HEADERS });
    const expected = `https://item.taobao.com/item.htm?id=${codes.length - 1}`;
    if (answer.status !== 302 || !(answer.headers.get('location') ?? '').startsWith(`${expected}&`)) {
      throw new Error(`seeded link /${checkedCode}: ${answer.status} to ${answer.headers.get('location')}, expected 302 to ${expected}&<tracking>`);
    }
    served302 += 1;
    extraCodes.push(checkedCode);
    console.log(`large: seeded /${checkedCode} answers 302 to ${expected}&…`);
    // As many links as the 1,000-link rounds tap, drawn at random from all of them and tapped the same
    // way, so the one difference between the two is how much Redis holds.
    const tapped = Math.min(codes.length, merchant.codes.length);
    for (let i = 0; i < tapped; i++) {
      const j = i + Math.floor(Math.random() * (codes.length - i));
      [codes[i], codes[j]] = [codes[j] as string, codes[i] as string];
    }
    const sample = codes.slice(0, tapped);
    extraCodes.push(...sample);
    const largeRequestsFor = (connection: number, connections: number) => tapsFor(sample, connection, connections);
    const largeTap = (name: string, durationSec: number) => tap(name, gateway, durationSec, largeRequestsFor);
    await largeTap('large warm-up gateway', settings.warmupSec);
    // These rounds come minutes after the 1,000-link rounds, and a shared machine's speed moves by half
    // in that time: baseline rounds alternate with them too, and each phase is judged by its own baseline.
    const runs: LoadRun[] = [];
    const baselineRuns: LoadRun[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      baselineRuns.push(await tap(`large round ${round} baseline`, baseline, settings.durationSec));
      runs.push(await largeTap(`large round ${round} gateway`, settings.durationSec));
    }
    large = { links: codes.length, tapped, seedMs, seedPerSec: codes.length / (seedMs / 1000), checkedCode, runs, baselineRuns, peakRssMb: peakRssMb(gateway.child.pid) };
  }
  await stopChild(baseline.child);

  const extraModes = settings.linksLarge > 0 || settings.soak > 0;
  const finalBacklog = extraModes ? await waitForFlush(gateway.url, 30_000) : backlog;
  const gatewayExit = await stopChild(gateway.child, 25_000);

  // Memory flat under load: a fresh gateway, RSS after the early count and after the whole soak.
  let soak: { redirects: number; early: number; rssEarlyMb: number | null; rssEndMb: number | null; flushed: { rssEarlyMb: number | null; rssEndMb: number | null; bufferedEarly: number; bufferedEnd: number }; peakRssMb: number | null; ratio: number | null; runs: LoadRun[]; exitCode: number | null; backlog: Backlog } | null = null;
  if (settings.soak > 0) {
    const soaked = await startGateway(redisUrl, serverCpu);
    const soakStart = performance.now();
    const phase = async (name: string, amount: number) => {
      const run = await runLoad({ url: soaked.url, requests: [], requestsFor, connections: settings.connections, durationSec: 24 * 3600, stopAfter: amount, serverPid: soaked.child.pid, helperPids });
      assertAlive();
      served302 += run.statusCounts['302'] ?? 0;
      unanswered += run.unanswered;
      const rss = rssMb(soaked.child.pid);
      const { buffered, spooled } = await backlogOf(soaked.url);
      // The same reading with no clicks waiting: tells a backlog that happened to be there from growth.
      await waitForFlush(soaked.url, 60_000);
      const rssFlushed = rssMb(soaked.child.pid);
      console.log(
        `${name}: ${fmt(run.completed)} redirects at ${run.rps.toFixed(0)} req/s, RSS ${rss?.toFixed(0) ?? '-'} MB with ${fmt(buffered)} clicks in memory ` +
          `(${fmt(spooled)} spooled), ${rssFlushed?.toFixed(0) ?? '-'} MB once flushed (${((performance.now() - soakStart) / 1000).toFixed(0)} s into the soak)`,
      );
      return { run, rss, rssFlushed, buffered };
    };
    const early = await phase('soak to early', settings.soakEarly);
    const rest = await phase('soak to end', settings.soak - early.run.completed);
    const redirects = early.run.completed + rest.run.completed;
    const soakBacklog = await waitForFlush(soaked.url, 60_000);
    const soakPeak = peakRssMb(soaked.child.pid);
    const exitCode = await stopChild(soaked.child, 25_000);
    soak = {
      redirects,
      early: early.run.completed,
      rssEarlyMb: early.rss,
      flushed: { rssEarlyMb: early.rssFlushed, rssEndMb: rest.rssFlushed, bufferedEarly: early.buffered, bufferedEnd: rest.buffered },
      rssEndMb: rest.rss,
      peakRssMb: soakPeak,
      ratio: early.rss === null || rest.rss === null ? null : rest.rss / early.rss,
      runs: [early.run, rest.run],
      exitCode,
      backlog: soakBacklog,
    };
  }

  // Every tap of every gateway so far, against the merchant's whole click stream.
  const extraClicks = extraModes ? await countClicks(redisUrl, { ...merchant, codes: [...merchant.codes, ...extraCodes] }) : null;

  // Cold start: fresh gateways on the same Redis, from spawn to the first 302 for an existing link.
  const coldStarts: { ms: number; attempts: number; exitCode: number | null }[] = [];
  for (let i = 1; i <= settings.coldStarts; i++) {
    const result = await coldStart(redisUrl, merchant.codes[0] as string, serverCpu);
    coldStarts.push(result);
    console.log(`cold start ${i}: first 302 ${result.ms.toFixed(0)} ms after spawn (${result.attempts} tries), exit code ${result.exitCode}`);
  }

  const baseSummary = summarise({ target: 'baseline node:http 302', ok: [300, 399], runs: rounds.get(baseline) ?? [], peakRssMb: baselineRss }, null);
  const gateSummary = summarise({ target: 'gateway GET /:code', ok: [300, 399], runs: rounds.get(gateway) ?? [], peakRssMb: gatewayRss }, baseSummary.rpsMean);
  // The large rounds, judged by the baseline rounds that alternated with them.
  let largeRows: { baseline: Summary; gateway: Summary; ratioTo1000Links: number } | null = null;
  if (large !== null) {
    const baseline = summarise({ target: 'baseline node:http 302', note: 'alongside the large rounds', ok: [300, 399], runs: large.baselineRuns, peakRssMb: null }, null);
    const gateway = summarise(
      { target: 'gateway GET /:code', note: `${fmt(large.links)} more links in Redis, ${fmt(large.tapped)} tapped`, ok: [300, 399], runs: large.runs, peakRssMb: large.peakRssMb },
      baseline.rpsMean,
    );
    largeRows = { baseline, gateway, ratioTo1000Links: (gateway.ratio ?? 0) / (gateSummary.ratio ?? 1) };
  }
  const soakSummary =
    soak === null ? null : summarise({ target: 'gateway soak', note: `${fmt(soak.redirects)} redirects, fresh gateway`, ok: [300, 399], runs: soak.runs, peakRssMb: soak.peakRssMb }, null);
  const summaries = [baseSummary, gateSummary, ...(largeRows === null ? [] : [largeRows.baseline, largeRows.gateway]), ...(soakSummary === null ? [] : [soakSummary]), ...apiRows.map((row) => summarise(row, null))];
  const noisy = Math.max(...summaries.map((x) => x.otherCpuPct ?? 0));
  const waited = Math.max(...summaries.map((x) => x.serverWaitPct ?? 0));
  if (waited > 10) notes.push(`the server's main thread waited for its core up to ${waited.toFixed(0)}% of the time ("srv wait%"): its core was shared (GC threads, other processes)`);
  if (noisy > 10) notes.push(`other processes used up to ${noisy.toFixed(0)}% of a core during the runs (column "other CPU%"): figures are noisy`);
  const behind = [gateSummary, ...(largeRows === null ? [] : [largeRows.gateway])].filter((x) => x.storedPerSec !== null && x.storedPerSec < 0.98 * x.rpsMean);
  for (const x of behind) {
    notes.push(
      `${x.target}${x.note === undefined ? '' : ` (${x.note})`}: Redis took ${x.storedPerSec?.toFixed(0)} clicks/s while the gateway answered ${x.rpsMean.toFixed(0)} redirects/s; the rest waited in its buffer and spool, so 'vs base' counts what Redis took`,
    );
  }
  notes.push(...paceNotes(baseSummary, gateSummary, pinning, givenRedis === ''));
  // Each connection sends its next request once answered: at saturation the mean latency follows from the throughput.
  const meanLatencyMs = (rps: number) => (1000 * settings.connections) / rps;
  notes.push(
    `latency at ${settings.connections} connections, each waiting for its answer, is mostly queueing: the mean is connections / throughput (Little's law), ` +
      `gateway ${meanLatencyMs(gateSummary.rpsMean).toFixed(1)} ms, baseline ${meanLatencyMs(baseSummary.rpsMean).toFixed(1)} ms; ` +
      `a p99 of 5 ms needs a mean below 5 ms, that is more than ${fmt(Math.ceil(1000 * settings.connections / 5))} redirects/s`,
  );
  if (baseSummary.loadgenCpuPct > 90) notes.push(`the load generator used ${baseSummary.loadgenCpuPct.toFixed(0)}% of its core during baseline rounds: the baseline figure is a lower bound, the ratio an upper bound`);

  // Every tap the gateway answered is one stream entry: exact unless a request went unanswered
  // (socket error or timeout), which the gateway may have taken. The per-link counters must match
  // too, unless the gateway classifies taps (then they hold only the billable ones).
  const within = (count: number, served = mainServed302, missing = mainUnanswered) => count >= served && count <= served + missing;
  const countersOk = clicks.classified ? clicks.counters <= clicks.stream : within(clicks.counters);
  const clickDetail =
    `${clicks.stream} stream entries, ${clicks.counters} in per-link counters${clicks.classified ? ' (billable taps only)' : ''}, ` +
    `${mainServed302} redirects served (incl. warm-up), buffered ${backlog.buffered}, spooled ${backlog.spooled}, dropped ${backlog.dropped}, ${mainUnanswered} taps unanswered`;
  const checks: Check[] = [
    { name: 'clicks equal', pass: within(clicks.stream) && countersOk && backlog.buffered === 0 && backlog.spooled === 0 && backlog.dropped === 0, detail: clickDetail, hard: true },
    { name: 'gateway exits cleanly', pass: gatewayExit === 0 && (soak?.exitCode ?? 0) === 0 && coldStarts.every((c) => c.exitCode === 0) && crashed().length === 0, detail: `exit code ${gatewayExit}${soak === null ? '' : `, soak gateway ${soak.exitCode}`}${coldStarts.length === 0 ? '' : `, cold-start gateways ${coldStarts.map((c) => c.exitCode).join(' ')}`}`, hard: true },
    {
      name: 'throughput ratio >= 0.60',
      pass: (gateSummary.ratio ?? 0) >= 0.6,
      detail:
        `${gateSummary.ratio?.toFixed(2)} by what Redis took (${gateSummary.sustainedRps.toFixed(0)}/s), ${(gateSummary.rpsMean / baseSummary.rpsMean).toFixed(2)} by redirects answered (${gateSummary.rpsMean.toFixed(0)}/s)` +
        `; ${cpuRatio(baseSummary, gateSummary)} by server CPU per redirect`,
      hard: false,
    },
    { name: 'gateway p99 <= 5 ms', pass: gateSummary.p99 <= 5, detail: `${gateSummary.p99.toFixed(2)} ms (baseline ${baseSummary.p99.toFixed(2)} ms)`, hard: false },
    { name: 'gateway p99.9 <= 20 ms', pass: gateSummary.p999 <= 20, detail: `${gateSummary.p999.toFixed(2)} ms (baseline ${baseSummary.p999.toFixed(2)} ms)`, hard: false },
  ];
  if (extraClicks !== null) {
    const soakBacklog = soak?.backlog ?? { buffered: 0, spooled: 0, dropped: 0 };
    checks.push({
      name: 'clicks equal after the extra modes',
      pass: within(extraClicks.stream, served302, unanswered) && extraClicks.counters <= extraClicks.stream && [finalBacklog, soakBacklog].every((b) => b.buffered === 0 && b.spooled === 0 && b.dropped === 0),
      detail: `${extraClicks.stream} stream entries, ${extraClicks.counters} in per-link counters, ${served302} redirects served by all gateways, ${unanswered} taps unanswered`,
      hard: true,
    });
  }
  if (coldStarts.length > 0) {
    checks.push({
      name: 'cold start < 1 s (spawn to first 302)',
      pass: coldStarts.every((c) => c.ms < 1000),
      detail: `${coldStarts.map((c) => `${c.ms.toFixed(0)} ms`).join(', ')} (${serverCpu === null ? 'unpinned' : 'through taskset on core 0'}, Redis already holding the links)`,
      hard: false,
    });
  }
  if (large !== null && largeRows !== null) {
    const { baseline: largeBaseline, gateway: largeSummary, ratioTo1000Links: ratio } = largeRows;
    checks.push({
      name: 'throughput flat in data size (within 10%)',
      pass: ratio >= 0.9,
      detail:
        `${ratio.toFixed(2)}: ${largeSummary.ratio?.toFixed(2)} of the baseline alongside (${largeSummary.sustainedRps.toFixed(0)}/s tapping ${fmt(large.tapped)} of ${fmt(large.links)} seeded links, ` +
        `baseline ${largeBaseline.rpsMean.toFixed(0)}/s) vs ${gateSummary.ratio?.toFixed(2)} (${gateSummary.sustainedRps.toFixed(0)}/s over ${fmt(merchant.codes.length)} links, baseline ${baseSummary.rpsMean.toFixed(0)}/s); ` +
        `req/s alone ${(largeSummary.sustainedRps / gateSummary.sustainedRps).toFixed(2)}; redirects answered and clicks into Redis, the lower; seeded in ${(large.seedMs / 1000).toFixed(1)} s`,
      hard: false,
    });
    notes.push(`large: the large rounds tap ${fmt(large.tapped)} links drawn at random from all ${fmt(large.links)}, each connection going round them as in the 1,000-link rounds: only the size of the data differs`);
  }
  if (soak !== null) {
    checks.push({
      name: 'RSS flat under load (end within 20% of early)',
      pass: soak.ratio !== null && soak.ratio <= 1.2,
      detail:
        `${soak.ratio?.toFixed(2) ?? '-'}: RSS ${soak.rssEndMb?.toFixed(0) ?? '-'} MB after ${fmt(soak.redirects)} redirects vs ${soak.rssEarlyMb?.toFixed(0) ?? '-'} MB after ${fmt(soak.early)} ` +
        `(${fmt(soak.flushed.bufferedEnd)} and ${fmt(soak.flushed.bufferedEarly)} clicks in memory then; once flushed ${soak.flushed.rssEndMb?.toFixed(0) ?? '-'} MB vs ${soak.flushed.rssEarlyMb?.toFixed(0) ?? '-'} MB; peak ${soak.peakRssMb?.toFixed(0) ?? '-'} MB)`,
      hard: false,
    });
  }

  console.log(`\n${table(summaries)}\n`);
  for (const check of checks) console.log(checkLine(check));
  for (const note of notes) console.log(`note: ${note}`);
  const file = writeJson({
    at: new Date().toISOString(),
    settings,
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, loadavgAtEnd: loadavg() },
    summaries,
    clicks: { ...clicks, served302: mainServed302, backlog },
    coldStarts,
    large:
      large === null || largeRows === null
        ? null
        : {
            links: large.links, tapped: large.tapped, seedMs: large.seedMs, seedPerSec: large.seedPerSec, checkedCode: large.checkedCode,
            rpsMean: largeRows.gateway.rpsMean, sustainedRps: largeRows.gateway.sustainedRps, baselineRpsMean: largeRows.baseline.rpsMean,
            ratioToBaseline: largeRows.gateway.ratio, ratioTo1000Links: largeRows.ratioTo1000Links, rpsTo1000Links: largeRows.gateway.sustainedRps / gateSummary.sustainedRps,
          },
    soak: soak === null ? null : { redirects: soak.redirects, early: soak.early, rssEarlyMb: soak.rssEarlyMb, rssEndMb: soak.rssEndMb, flushed: soak.flushed, peakRssMb: soak.peakRssMb, ratio: soak.ratio, exitCode: soak.exitCode, backlog: soak.backlog },
    extraClicks: extraClicks === null ? null : { ...extraClicks, served302, unanswered, backlog: finalBacklog },
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
