// Child processes for the bench: pinning to a core, start/ready/stop, and /proc sampling.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Last lines of its output, shown if it dies. */
  tail: string[];
  /** Set when it exits; `expected` once we asked it to stop. */
  exit: { code: number | null; signal: string | null; expected: boolean } | null;
  stopping: boolean;
}

const children: Child[] = [];

/**
 * Pinning plan: servers on core 0, the load generator (this process) on core 1, and the bench's
 * Redis on core 2 where there is one, as when Redis is another host; on two cores it shares core 1
 * with the load generator, so that the server's core stays its own.
 */
export interface Pinning {
  enabled: boolean;
  note: string;
  serverCore: number | null;
  loadgenCore: number | null;
  redisCore: number | null;
}

export function setUpPinning(): Pinning {
  const unpinned = (note: string): Pinning => ({ enabled: false, note, serverCore: null, loadgenCore: null, redisCore: null });
  const cores = availableParallelism();
  if (cores < 2) return unpinned('fewer than 2 cores: nothing pinned');
  if (spawnSync('taskset', ['-p', String(process.pid)]).status !== 0) return unpinned('taskset not available: nothing pinned');
  const self = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  if (self.status !== 0) return unpinned(`taskset could not pin the load generator: ${self.stderr}`);
  const redisCore = cores >= 3 ? 2 : 1;
  return { enabled: true, note: 'servers on core 0, load generator on core 1 (taskset)', serverCore: 0, loadgenCore: 1, redisCore };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts `command args` (through `taskset -c cpu` when pinning), keeping its output's tail. */
export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cpu: number | null): Child {
  const [file, argv] = cpu === null ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
  const proc = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const child: Child = { name, proc, pid: proc.pid, tail: [], exit: null, stopping: false };
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line !== '') child.tail.push(line);
    child.tail.splice(0, Math.max(0, child.tail.length - 40));
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.on('exit', (code, signal) => {
    child.exit = { code, signal, expected: child.stopping };
    if (!child.stopping) console.error(`\n!! ${name} (pid ${child.pid}) exited unexpectedly: code ${code} signal ${signal}\n${child.tail.join('\n')}`);
  });
  children.push(child);
  return child;
}

/** Polls `probe` every 100 ms until it is true, the child dies, or `timeoutMs` passes. */
export async function waitUntil(child: Child, what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exit !== null) throw new Error(`${child.name} exited before ${what}:\n${child.tail.join('\n')}`);
    if (await Promise.resolve().then(probe).catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${child.name}: ${what} did not happen within ${timeoutMs} ms`);
}

/** Throws if any child died without being asked to. */
export function assertAlive(): void {
  const dead = children.find((c) => c.exit !== null && !c.exit.expected);
  if (dead !== undefined) throw new Error(`${dead.name} crashed (code ${dead.exit?.code}, signal ${dead.exit?.signal})`);
}

export function crashed(): Child[] {
  return children.filter((c) => c.exit !== null && !c.exit.expected);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export async function stopChild(child: Child, graceMs = 5000): Promise<number | null> {
  child.stopping = true;
  if (child.exit === null) {
    child.proc.kill('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (child.exit === null && Date.now() < deadline) await sleep(50);
    if (child.exit === null) {
      console.error(`${child.name}: no exit ${graceMs} ms after SIGTERM, sending SIGKILL`);
      child.proc.kill('SIGKILL');
      for (let i = 0; i < 40 && child.exit === null; i++) await sleep(50);
    }
  }
  return child.exit?.code ?? null;
}

/** Stops every child still running, newest first (gateway before its Redis). */
export async function stopAll(graceMs = 25_000): Promise<void> {
  for (const child of [...children].reverse()) if (child.exit === null) await stopChild(child, graceMs);
}

/** Last resort on process exit: no child outlives the bench. */
export function killAllSync(): void {
  for (const child of children) if (child.exit === null) child.proc.kill('SIGKILL');
}

function statusField(pid: number, field: string): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

/** Peak resident set (VmHWM) in MiB, or null off Linux. */
export const peakRssMb = (pid: number) => statusField(pid, 'VmHWM');

/** Resident set now (VmRSS) in MiB, or null off Linux. */
export const rssMb = (pid: number) => statusField(pid, 'VmRSS');

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds (user + system) the process has used so far, or null off Linux. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Marks every child as being stopped on purpose (a Ctrl-C reaches them too). */
export function markAllStopping(): void {
  for (const child of children) child.stopping = true;
}

// A /proc/stat cpu line's times after its name: busy is all but idle and iowait.
function busyOf(times: string): number {
  const fields = times.trim().split(/\s+/).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (fields[3] ?? 0) - (fields[4] ?? 0)) / CLOCK_TICKS;
}

/**
 * CPU seconds the host has spent busy (not idle or waiting on I/O), all cores together and each by
 * core number, from one reading; null off Linux.
 */
export function busySeconds(): { host: number; cores: number[] } | null {
  try {
    const stat = readFileSync('/proc/stat', 'utf8');
    const all = /^cpu (.*)$/m.exec(stat);
    const cores: number[] = [];
    for (const [, core, times] of stat.matchAll(/^cpu(\d+) (.*)$/gm)) cores[Number(core)] = busyOf(times as string);
    return all === null || cores.length === 0 ? null : { host: busyOf(all[1] as string), cores };
  } catch {
    return null;
  }
}

/** Seconds the process's main thread has spent runnable but waiting for a CPU (Linux schedstat). */
export function runQueueWaitSeconds(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return null;
  }
}
