import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningEntry {
  child: ChildProcess;
  output: () => string;
  port: Promise<number>;
}

const spoolFolders: string[] = [];
// Registered on the importing test file, which removes its spools when it is done.
afterAll(() => {
  for (const folder of spoolFolders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A spool file of its own in a fresh temporary folder, removed after the test file. */
export function tempSpoolFile(): string {
  const folder = mkdtempSync(join(tmpdir(), 'hanglink-spool-'));
  spoolFolders.push(folder);
  return join(folder, 'clicks.spool');
}

/** The Node entry from its source; `npm start` runs the same code bundled (BUNDLED_ENTRY). */
export const SOURCE_ENTRY = ['--import', 'tsx', 'src/runtime/node.ts'];
/** `npm start`'s command as words: `node`, its flags, and the bundle `npm run bundle` writes. */
export const START_COMMAND = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
/** What `npm start` runs after `node`: its flags and the bundle. */
export const BUNDLED_ENTRY = START_COMMAND.slice(1);

/** The Node entry in a child process of its own (with its own spool unless given one), run from `cwd`. */
export function startEntry(env: Record<string, string>, entry: readonly string[] = SOURCE_ENTRY, cwd = ROOT): RunningEntry {
  const child = spawn(process.execPath, [...entry], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HANGLINK_CLICK_SPOOL: tempSpoolFile(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  port.catch(() => {});
  return { child, output: () => output, port };
}

export async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** POSTs JSON with a bearer token and answers the JSON body; throws on a non-2xx answer. */
export async function postJson(base: string, path: string, key: string, body: unknown): Promise<Record<string, string>> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}
