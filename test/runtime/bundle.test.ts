// `npm start` and the Docker image run the Node entry bundled into one file (package.json's
// "bundle" script). Built here by that same script, and run from a folder that holds only what the
// image holds (no node_modules), the bundle must start, answer a tap with a signed redirect, and
// write the click on SIGTERM: what a bundling mistake (a package left out of the bundle, a path
// resolved from the wrong place) or a file missing from the image would break.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyAttribution } from '../../src/domain/attribution.js';
import { SHOPPER_USER_AGENT } from '../helpers/app.js';
import { BUNDLED_ENTRY, exitCode, postJson, ROOT, START_COMMAND, startEntry } from '../helpers/entry.js';
import { storedLinkClicks, testRedis, type TestRedis } from '../helpers/redis.js';

const ADMIN = 'bundle-admin-token-0123456789';
const SIGNING_KEY = { id: 'k1', secret: 'bundle-signing-secret-0123456789' };

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The files the image's last stage copies from the build stage, as [path in the repo, path in the image's /app]. */
function imageFiles(): [from: string, to: string][] {
  const lastStage = DOCKERFILE.slice(DOCKERFILE.lastIndexOf('\nFROM '));
  return [...lastStage.matchAll(/^COPY --from=build \/app\/(\S+) (\S+)$/gm)].map(([, from = '', to = '']) => [from, to.endsWith('/') ? join(to, basename(from)) : to]);
}

describe('the bundled Node entry (npm start), from the Docker image\'s files alone', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let image: string;
  beforeAll(async () => {
    redis = await testRedis();
    const built = spawnSync('npm', ['run', 'bundle', '--silent'], { cwd: ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    image = mkdtempSync(join(tmpdir(), 'hanglink-image-'));
    for (const [from, to] of imageFiles()) cpSync(join(ROOT, from), join(image, to), { recursive: true });
  });
  afterAll(() => {
    rmSync(image, { recursive: true, force: true });
    return redis.cleanup();
  });

  it('copies the bundle and no node_modules into the image', () => {
    const copied = imageFiles().map(([, to]) => to);
    expect(copied).toContain(join('dist', 'runtime', 'node.bundle.js'));
    expect(copied.filter((path) => path.includes('node_modules'))).toEqual([]);
  });

  it('starts, answers a tap with a signed 302 to the item, and writes its click on SIGTERM', async () => {
    const gateway = startEntry(
      {
        REDIS_URL: inject('redisUrl'),
        HANGLINK_REDIS_PREFIX: redis.prefix,
        HANGLINK_ADMIN_TOKEN: ADMIN,
        HANGLINK_SIGNING_KEYS: `${SIGNING_KEY.id}:${SIGNING_KEY.secret}`,
      },
      BUNDLED_ENTRY,
      image,
    );
    try {
      const base = `http://127.0.0.1:${await gateway.port}`;
      const merchant = await postJson(base, '/v1/admin/merchants', ADMIN, { name: 'bundle' });
      const link = await postJson(base, '/v1/links', merchant.apiKey as string, { url: 'https://item.taobao.com/item.htm?id=7', noteId: 'note-7', category: 'beauty' });
      const tap = await fetch(`${base}/${link.code}`, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });
      expect(tap.status).toBe(302);
      const landing = verifyAttribution(tap.headers.get('location') ?? '', [SIGNING_KEY]);
      expect(landing).toMatchObject({ valid: true, destination: 'https://item.taobao.com/item.htm?id=7', linkCode: link.code, noteId: 'note-7' });

      gateway.child.kill('SIGTERM');
      expect(await exitCode(gateway.child)).toBe(0);
      expect(await storedLinkClicks(redis.redis, redis.prefix, link.code as string)).toBe('1');
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });
});

describe('the Docker image', () => {
  it('runs what npm start runs, node flags included', () => {
    const command = /^CMD (\[.*\])$/m.exec(DOCKERFILE)?.[1];
    expect(command, 'the Dockerfile has no CMD in exec form').toBeDefined();
    expect(JSON.parse(command as string)).toEqual(START_COMMAND);
    expect(START_COMMAND.at(-1)).toBe('dist/runtime/node.bundle.js');
  });
});
