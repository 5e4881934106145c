// CPU profile of the gateway serving taps:
//   npm run build && node --import tsx bench/profile.ts      (BENCH_PROF_DIR=/tmp/prof BENCH_DURATION=10)
// Same set-up as the bench (pinned, throwaway Redis, 1,000 links, 64 connections); the gateway runs
// with --cpu-prof and writes its profile when SIGTERM stops it. Profiles stay out of the repo. It runs
// dist/ module by module rather than the deployed bundle, so that time is put down to each package.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { summarise } from './cpuprofile-top.js';
import { runLoad } from './load.js';
import { killAllSync, setUpPinning, stopAll, stopChild } from './procs.js';
import { tapsFor } from './taps.js';
import { removeEmptySpools, setUpMerchant, startGateway, startRedis, unbundledGatewayEntry } from './targets.js';

const dir = process.env.BENCH_PROF_DIR ?? '/tmp/prof';
const durationSec = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
process.on('exit', () => {
  killAllSync();
  removeEmptySpools();
});

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const pinning = setUpPinning();
  console.log(`profile: ${pinning.note}`);
  const redis = await startRedis(pinning.redisCore);
  const gateway = await startGateway(redis.url, pinning.serverCore, ['--cpu-prof', `--cpu-prof-dir=${dir}`], unbundledGatewayEntry);
  const merchant = await setUpMerchant(gateway.url, 1000);
  const requestsFor = (connection: number, count: number) => tapsFor(merchant.codes, connection, count);
  const load = (seconds: number) =>
    runLoad({ url: gateway.url, requests: [], requestsFor, connections, durationSec: seconds, serverPid: gateway.child.pid, helperPids: [redis.child.pid] });
  await load(2); // warm-up, in the profile too, but short
  const run = await load(durationSec);
  console.log(`profile: ${run.rps.toFixed(0)} req/s, server CPU ${run.serverCpuPct?.toFixed(0)}%, Redis CPU ${run.helperCpuPct?.toFixed(0)}%`);
  const startedStop = Date.now();
  await stopChild(gateway.child, 25_000);
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= startedStop - 1000)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (newest === undefined) throw new Error(`no new .cpuprofile in ${dir}`);
  console.log(summarise(newest));
}

main()
  .catch((error: unknown) => {
    console.error('profile failed:', error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
