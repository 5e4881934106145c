import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds, limitBody, limitJsonDepth, requireJson } from '../../src/http/middleware/body.js';
import { toProblemResponse } from '../../src/http/problems.js';

const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('jsonDepthExceeds', () => {
  it.each([
    ['a scalar', '42', 0],
    ['an empty object', '{}', 1],
    ['an array in an object', '{"a":[1,2]}', 2],
    ['siblings do not add up', '{"a":[1],"b":{"c":2},"d":[[3]]}', 3],
    ['32 arrays', nested(32), 32],
    ['32 objects', nestedObject(32), 32],
  ])('%s nests %i deep', (_what, text, depth) => {
    expect(jsonDepthExceeds(text, depth)).toBe(false);
    if (depth > 0) expect(jsonDepthExceeds(text, depth - 1)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ url: '[[[[{{{{', note: 'a \\" quote [[[[ and \\\\', more: '"]]]]"' });
    expect(jsonDepthExceeds(text, 1)).toBe(false);
  });

  it('stops at the first level too deep, however long the rest is', () => {
    expect(jsonDepthExceeds(`${nested(33)}${'x'.repeat(1_000_000)}`, 32)).toBe(true);
  });

  it('does not need valid JSON to answer', () => {
    expect(jsonDepthExceeds('[[[[', 3)).toBe(true);
    expect(jsonDepthExceeds(']]]]{', 1)).toBe(false);
    expect(jsonDepthExceeds('"unterminated [[[[', 1)).toBe(false);
  });
});

describe('limitJsonDepth', () => {
  const app = new Hono();
  app.use('*', requireJson, limitBody(64 * 1024), limitJsonDepth(32));
  app.post('/echo', async (c) => c.json(await c.req.json()));
  app.get('/echo', (c) => c.text('no body'));
  app.onError((error) => toProblemResponse(error, (e) => { throw e; }));

  const post = (body: string) => app.request('/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('lets a body at the limit through, and the handler still reads it', async () => {
    const body = nested(32);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toBe(body);
  });

  it('refuses a deeper body with a problem document', async () => {
    const res = await post(nestedObject(33));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toEqual({
      type: 'https://hanglink.dev/problems/json-too-deep',
      title: 'JSON nested too deeply',
      status: 400,
      detail: 'Arrays and objects in the body may nest at most 32 deep.',
      maxDepth: 32,
    });
  });

  it('refuses a body far too deep for a recursive parser just the same', async () => {
    const res = await post(nested(30_000));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { type: string }).type).toBe('https://hanglink.dev/problems/json-too-deep');
  });

  it('leaves bodiless requests alone', async () => {
    expect((await app.request('/echo')).status).toBe(200);
  });
});
