import { afterAll, describe, expect, it, vi } from 'vitest';
import worker from '../../src/runtime/worker.js';

// A module of its own: the Worker keeps its isolate's configuration in module scope.
describe('the Workers entry in development, without Redis', () => {
  const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
  afterAll(() => vi.restoreAllMocks());
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (promise: Promise<unknown>) => void pending.push(promise) };
  const call = (path: string, init: RequestInit = {}) => worker.fetch(new Request(`https://dev.example.test${path}`, init), {}, ctx);

  it('says it runs on the in-process store, prints the secrets it generated once, and they work', async () => {
    expect((await call('/healthz')).status).toBe(200);
    await call('/healthz');
    const lines = logged.mock.calls.map(([line]) => String(line));
    expect(lines.some((line) => line.includes('IN-PROCESS store'))).toBe(true);
    const tokens = lines.flatMap((line) => /generated HANGLINK_ADMIN_TOKEN=(\S+)/.exec(line)?.[1] ?? []);
    expect(tokens).toHaveLength(1);
    expect(lines.filter((line) => /generated HANGLINK_SIGNING_KEYS=dev:\S{16,}/.test(line))).toHaveLength(1);

    const created = await call('/v1/admin/merchants', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dev' }),
    });
    expect(created.status).toBe(201);
    await Promise.all(pending);
  });
});
