// Redis instructions per click, counted by callgrind: the same figure on a busy machine as on an idle
// one, where Redis's µs per click in the bench moves by a third from run to run.
//   node --import tsx bench/redis-cost.ts      (BENCH_LINKS=1000 BENCH_COST_CLICKS=51200 BENCH_COST_CALL=160)
// Runs redis-server under valgrind (about fifty times slower) and writes the bench's taps to it the way
// the gateway does (its click records, enrichment, click buffer and store, watching link changes),
// so the classification sees what it sees in the bench: a first round of every connection over every
// link as warm-up (unique taps), then repeats, BENCH_COST_CALL clicks a call: under the bench's load
// the gateway's calls carry 160 to 195 clicks (bench/run.ts notes it), not the 200 a call can hold, and
// costs per call weigh accordingly. Counts the measured clicks' instructions only, folds of their
// pending counts included: a figure to compare before and after a change to the click script.
// About 1.5 minutes with the defaults.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ClickBuffer } from '../src/clicks/buffer.js';
import { clickEnricher } from '../src/clicks/enrich.js';
import { clickRecord, type ClickRecord } from '../src/domain/click.js';
import { UserAgentCache } from '../src/domain/user-agent.js';
import { randomIds } from '../src/ids.js';
import { createRedisStore } from '../src/store/redis/store.js';
import { freePort, killAllSync, startChild, stopAll, waitUntil } from './procs.js';
import { tapsFor } from './taps.js';

const links = Number(process.env.BENCH_LINKS ?? 1000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const measured = Number(process.env.BENCH_COST_CLICKS ?? 51_200);
const clicksPerCall = Number(process.env.BENCH_COST_CALL ?? 160);
process.on('exit', killAllSync);

function callgrind(args: string[]): void {
  const done = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (done.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${done.stderr || done.stdout}`);
}

/** The instructions callgrind counted in its newest dump in `dir`. */
function dumpedInstructions(dir: string): number {
  const dumps = readdirSync(dir).filter((name) => /^callgrind\.out\.\d+\.\d+$/.test(name));
  const newest = dumps.sort((a, b) => Number(b.split('.').at(-1)) - Number(a.split('.').at(-1)))[0];
  if (newest === undefined) throw new Error(`no callgrind dump in ${dir}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, newest), 'utf8'));
  if (totals === null) throw new Error(`no totals in ${newest}`);
  return Number(totals[1]);
}

/** The taps of every connection, interleaved as the load generator sends them, as the gateway records them. */
function tapRecords(codes: string[], merchantId: string): ClickRecord[] {
  const perConnection = Array.from({ length: connections }, (_, connection) => tapsFor(codes, connection, connections));
  const records: ClickRecord[] = [];
  for (let i = 0; i < codes.length; i++) {
    for (const taps of perConnection) {
      const tap = taps[i]!;
      const headers = tap.headers as Record<string, string>;
      const linkCode = tap.path!.slice(1);
      records.push(
        clickRecord(
          { clickId: randomIds.clickId(), linkCode, merchantId, noteId: `note-${linkCode}`, campaignId: 'bench', at: Date.now(), route: 'web' },
          { userAgent: headers['user-agent'], referrer: undefined, acceptLanguage: headers['accept-language'], ip: headers['x-forwarded-for'] },
        ),
      );
    }
  }
  return records;
}

async function main(): Promise<void> {
  for (const tool of ['valgrind', 'callgrind_control', 'redis-server']) {
    if (spawnSync(tool, ['--version']).error !== undefined) throw new Error(`${tool} is not installed`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'hanglink-redis-cost-'));
  const port = await freePort();
  const server = startChild(
    'redis-server under callgrind',
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.out.%p')}`, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    process.env,
    null,
  );
  await waitUntil(server, 'Redis ready', () => server.tail.some((line) => line.includes('Ready to accept connections')), 60_000);

  const redis = new Redis({ port, host: '127.0.0.1' });
  const store = createRedisStore(redis, { prefix: `hlcost:${Date.now()}:` });
  const watching = store.watchLinkChanges?.({ changed: () => {}, live: () => {}, refused: (error) => console.error(error.message) });
  const buffer = new ClickBuffer(store, { batchSize: 200, enrich: clickEnricher(new UserAgentCache()), maxBuffered: 10_000_000 });
  const codes = Array.from({ length: links }, (_, n) => `cost${String(n).padStart(4, '0')}`);
  const write = async (count: number) => {
    let left = count;
    while (left > 0) {
      const round = tapRecords(codes, 'mer_costcostcostcost').slice(0, left);
      for (let from = 0; from < round.length; from += clicksPerCall) {
        for (const record of round.slice(from, from + clicksPerCall)) buffer.push(record);
        await buffer.flush();
      }
      left -= round.length;
    }
  };

  const warmUp = links * connections;
  console.log(
    `redis-cost: ${links} links, ${connections} connections: ${warmUp} clicks of warm-up, then ${measured} measured, ${clicksPerCall} a call (redis-server under callgrind, pid ${server.pid})`,
  );
  await write(warmUp);
  callgrind(['-z', String(server.pid)]);
  await write(measured);
  callgrind(['-d', String(server.pid)]);
  const instructions = dumpedInstructions(dir);
  console.log(`redis-cost: ${Math.round(instructions / measured)} instructions per click (${(instructions / 1e6).toFixed(0)} M for ${measured} clicks, folds of their counts included)`);
  await watching?.close();
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
}

main()
  .catch((error: unknown) => {
    console.error('redis-cost failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
