import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SigningKey } from '../../src/domain/attribution.js';
import { verifyAttribution } from '../../src/index.js';
import { SHOPPER_USER_AGENT, testAppDeps, testGateway, type TestGateway } from '../helpers/app.js';

/**
 * Key rotation over HTTP, configured as an operator would: a gateway signs with "old"; the
 * configuration then becomes "new,old@END" (new signs, old only verifies, until END). A landing
 * signed by old verifies through POST /v1/attribution/verify up to END, and not after it.
 */

const OLD_SECRET = 'old-signing-secret-0123456789';
const NEW_SECRET = 'new-signing-secret-9876543210';
const HOUR_MS = 3_600_000;

let gw: TestGateway;
let merchant: { id: string; apiKey: string };
let code: string;
/** When the rotated configuration says old stops verifying: a day after the first tap, on a whole second. */
let endMs: number;
let rotatedKeys: SigningKey[];
let before: OpenAPIHono<any>;
let after: OpenAPIHono<any>;
let signedByOld: string;

/** A gateway process on the shared store and clock, configured with this HANGLINK_SIGNING_KEYS. */
function gatewayWith(signingKeysEnv: string): { app: OpenAPIHono<any>; keys: SigningKey[] } {
  const keys = loadConfig({ HANGLINK_SIGNING_KEYS: signingKeysEnv }, () => '{"open":["beauty"],"whitelist":[]}').config.signingKeys;
  const deps = testAppDeps(gw.store, gw.clicks, gw.clock, { impressions: gw.impressions });
  return { app: createApp({ ...deps, config: { ...deps.config, signingKeys: keys } }).app, keys };
}

function call(app: OpenAPIHono<any>, path: string, init: { method?: string; key?: string; json?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'user-agent': SHOPPER_USER_AGENT };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return Promise.resolve(
    app.request(path, { method: init.method ?? 'GET', headers, ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }) }),
  );
}

async function tap(app: OpenAPIHono<any>): Promise<string> {
  const res = await call(app, `/${code}`);
  expect(res.status).toBe(302);
  await gw.flush();
  return res.headers.get('location') ?? '';
}

async function verify(app: OpenAPIHono<any>, url: string): Promise<Record<string, unknown>> {
  const res = await call(app, '/v1/attribution/verify', { method: 'POST', key: merchant.apiKey, json: { url } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  gw = await testGateway();
  merchant = await gw.merchant('Rotating merchant');
  code = (await gw.mint(merchant.apiKey)).code;
  endMs = Math.ceil((gw.clock.now + 24 * HOUR_MS) / 1000) * 1000;

  before = gatewayWith(`old:${OLD_SECRET}`).app;
  signedByOld = await tap(before);

  // The rotation: the operator restarts the gateways with the new key first and old given an end.
  gw.clock.now += HOUR_MS;
  const rotated = gatewayWith(`new:${NEW_SECRET},old@${new Date(endMs).toISOString()}:${OLD_SECRET}`);
  after = rotated.app;
  rotatedKeys = rotated.keys;
});

afterAll(async () => {
  await gw.close();
});

describe('rotating from old to new, old with an end', () => {
  it('the configuration reads as new (signing, open-ended) then old (verifying until its end)', () => {
    expect(rotatedKeys).toEqual([
      { id: 'new', secret: NEW_SECRET },
      { id: 'old', secret: OLD_SECRET, notAfterMs: endMs },
    ]);
  });

  it('before the rotation, taps are signed by old and verify', async () => {
    expect(new URL(signedByOld).searchParams.get('hl_kid')).toBe('old');
    expect(await verify(before, signedByOld)).toMatchObject({ valid: true, keyId: 'old', linkCode: code });
  });

  it('after it, new taps are signed by new', async () => {
    const signedByNew = await tap(after);
    expect(new URL(signedByNew).searchParams.get('hl_kid')).toBe('new');
    expect(await verify(after, signedByNew)).toMatchObject({ valid: true, keyId: 'new', linkCode: code });
  });

  it('a landing signed by old still verifies during its grace period, up to and including its end', async () => {
    const clickId = new URL(signedByOld).searchParams.get('hl_cid');
    expect(await verify(after, signedByOld)).toMatchObject({ valid: true, keyId: 'old', clickId, linkCode: code });
    gw.clock.now = endMs;
    expect(await verify(after, signedByOld)).toMatchObject({ valid: true, keyId: 'old' });
  });

  it('after its end it is refused as unknown-key, though the click, its signature and its age are all fine', async () => {
    gw.clock.now = endMs + 1;
    const verdict = await verify(after, signedByOld);
    expect(verdict).toEqual({ valid: false, reason: 'unknown-key', detail: expect.stringContaining('retired') });
    expect(JSON.stringify(verdict)).not.toContain(OLD_SECRET);
    // The landing is not too old: a gateway that still has old without an end accepts it.
    expect(await verify(before, signedByOld)).toMatchObject({ valid: true, keyId: 'old' });
  });

  it('landings signed by new keep verifying after old has ended', async () => {
    gw.clock.now = endMs + HOUR_MS;
    const signedByNew = await tap(after);
    expect(await verify(after, signedByNew)).toMatchObject({ valid: true, keyId: 'new' });
  });

  it('the exported verifier, given the same keys and clock, agrees with the route', () => {
    expect(verifyAttribution(signedByOld, rotatedKeys, { nowMs: endMs })).toMatchObject({ valid: true, keyId: 'old' });
    expect(verifyAttribution(signedByOld, rotatedKeys, { nowMs: endMs + 1 })).toEqual({ valid: false, reason: 'unknown-key' });
  });

  it('naming new in a landing signed by old is a bad signature, before and after old’s end', async () => {
    const relabelled = signedByOld.replace('hl_kid=old', 'hl_kid=new');
    expect(relabelled).not.toBe(signedByOld);
    for (const now of [endMs - HOUR_MS, endMs + 1]) {
      gw.clock.now = now;
      expect(await verify(after, relabelled)).toMatchObject({ valid: false, reason: 'bad-signature' });
    }
  });
});
