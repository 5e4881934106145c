import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

const HOW_TO_GET_REDIS = `
hanglink's tests run against a real Redis, and none was found.
Either point them at one:      REDIS_URL=redis://127.0.0.1:6379 npm test
or install redis-server so the tests can start a throwaway one:
  Debian/Ubuntu: sudo apt-get install redis-server      macOS: brew install redis
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (ping.stdout?.trim() === 'PONG') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
}

/**
 * Uses REDIS_URL when set; otherwise starts a throwaway redis-server on a free port that keeps
 * nothing on disk, and stops it when the run ends.
 */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const given = process.env.REDIS_URL;
  if (given !== undefined && given !== '') {
    project.provide('redisUrl', given);
    return undefined;
  }
  if (spawnSync('redis-server', ['--version']).error !== undefined) {
    throw new Error(HOW_TO_GET_REDIS);
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'],
    { stdio: 'ignore' },
  );
  await waitForPing(port, child);
  project.provide('redisUrl', `redis://127.0.0.1:${port}`);
  return () => {
    child.kill('SIGTERM');
  };
}
