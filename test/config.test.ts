import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, type Env, loadConfig } from '../src/config.js';

const CATEGORIES_TEXT = readFileSync(new URL('../config/categories.json', import.meta.url), 'utf8');
const readCategories = () => CATEGORIES_TEXT;

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const KEY_A = 'ka:secret-a-0123456789abcdef';
const PRODUCTION: Env = { NODE_ENV: 'production', HANGLINK_ADMIN_TOKEN: ADMIN_TOKEN, HANGLINK_SIGNING_KEYS: KEY_A };

/** Runs loadConfig expecting a ConfigError, and returns its problems. */
function problemsOf(env: Env, categories: () => string = readCategories): string[] {
  try {
    loadConfig(env, categories);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    for (const problem of problems) expect(message).toContain(problem);
    return problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const mentioning = (problems: string[], ...words: string[]) => problems.filter((p) => words.every((w) => p.includes(w)));

describe('loadConfig defaults', () => {
  const { config } = loadConfig({}, readCategories);

  it('listens on port 8787 and builds short URLs from http://localhost:8787', () => {
    expect(config.port).toBe(8787);
    expect(config.publicUrl).toBe('http://localhost:8787');
  });

  it('derives the default public URL from PORT', () => {
    expect(loadConfig({ PORT: '9000' }, readCategories).config.publicUrl).toBe('http://localhost:9000');
  });

  it('allows *.taobao.com and *.tmall.com, as domain patterns', () => {
    expect(config.allowedHosts).toEqual(['.taobao.com', '.tmall.com']);
  });

  it('is development, without Redis, not trusting proxies, with the policy from the categories file', () => {
    expect(config.production).toBe(false);
    expect(config.redisUrl).toBeNull();
    expect(config.trustProxy).toBe(false);
    expect(config.categories.whitelist).toEqual(['health-check', 'medical-device']);
  });

  it('keeps an explicit public URL, without its trailing slash', () => {
    expect(loadConfig({ HANGLINK_PUBLIC_URL: 'https://go.example.com/' }, readCategories).config.publicUrl).toBe('https://go.example.com');
  });

  it('turns an exact host into an exact entry and *.domain into a domain pattern', () => {
    const { config: custom } = loadConfig({ HANGLINK_ALLOWED_HOSTS: ' detail.tmall.com , *.Taobao.com ' }, readCategories);
    expect(custom.allowedHosts).toEqual(['detail.tmall.com', '.taobao.com']);
  });
});

describe('development without secrets', () => {
  it('generates an admin token and a signing key, and reports both in `generated`', () => {
    const { config, generated } = loadConfig({}, readCategories);
    expect(config.adminToken.length).toBeGreaterThanOrEqual(16);
    expect(generated.adminToken).toBe(config.adminToken);
    expect(config.signingKeys).toHaveLength(1);
    const [key] = config.signingKeys;
    expect(key!.secret.length).toBeGreaterThanOrEqual(16);
    expect(generated.signingKey).toBe(`${key!.id}:${key!.secret}`);
  });

  it('generates fresh secrets on every start', () => {
    const first = loadConfig({}, readCategories).config;
    const second = loadConfig({}, readCategories).config;
    expect(first.adminToken).not.toBe(second.adminToken);
    expect(first.signingKeys[0]!.secret).not.toBe(second.signingKeys[0]!.secret);
  });

  it('generates nothing when the secrets are given', () => {
    const { config, generated } = loadConfig({ HANGLINK_ADMIN_TOKEN: ADMIN_TOKEN, HANGLINK_SIGNING_KEYS: KEY_A }, readCategories);
    expect(generated).toEqual({});
    expect(config.adminToken).toBe(ADMIN_TOKEN);
    expect(config.signingKeys).toEqual([{ id: 'ka', secret: 'secret-a-0123456789abcdef' }]);
  });
});

describe('production', () => {
  it('starts with an admin token and signing keys', () => {
    const { config, generated } = loadConfig(PRODUCTION, readCategories);
    expect(config.production).toBe(true);
    expect(generated).toEqual({});
  });

  it('refuses to start without HANGLINK_ADMIN_TOKEN and HANGLINK_SIGNING_KEYS, naming both in one error', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(mentioning(problems, 'HANGLINK_ADMIN_TOKEN')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS')).toHaveLength(1);
  });

  it('refuses an empty HANGLINK_ADMIN_TOKEN, naming it', () => {
    expect(mentioning(problemsOf({ ...PRODUCTION, HANGLINK_ADMIN_TOKEN: '' }), 'HANGLINK_ADMIN_TOKEN')).toHaveLength(1);
  });

  it('refuses a short admin token', () => {
    expect(mentioning(problemsOf({ ...PRODUCTION, HANGLINK_ADMIN_TOKEN: 'short' }), 'HANGLINK_ADMIN_TOKEN')).toHaveLength(1);
  });
});

describe('signing keys', () => {
  it('keeps several kid:secret pairs in the order given, so the first one signs', () => {
    const env = { HANGLINK_SIGNING_KEYS: ' k2025:new-secret-0123456789ab , k2024:old-secret-0123456789ab,legacy:legacy-secret-012345' };
    expect(loadConfig(env, readCategories).config.signingKeys).toEqual([
      { id: 'k2025', secret: 'new-secret-0123456789ab' },
      { id: 'k2024', secret: 'old-secret-0123456789ab' },
      { id: 'legacy', secret: 'legacy-secret-012345' },
    ]);
  });

  it('splits an entry at its first ":", so a secret may contain ":"', () => {
    const { config } = loadConfig({ HANGLINK_SIGNING_KEYS: 'k1:a:b:c-0123456789abcdef' }, readCategories);
    expect(config.signingKeys).toEqual([{ id: 'k1', secret: 'a:b:c-0123456789abcdef' }]);
  });

  it('refuses a value that names no key at all', () => {
    expect(mentioning(problemsOf({ HANGLINK_SIGNING_KEYS: ' , ' }), 'HANGLINK_SIGNING_KEYS')).toHaveLength(1);
  });

  it('does not repeat a secret it refuses in the error', () => {
    const bareSecret = 'Sup3rSecretValueWithoutAKid';
    const problems = problemsOf({ HANGLINK_SIGNING_KEYS: bareSecret });
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS')).toHaveLength(1);
    for (const problem of problems) expect(problem).not.toContain(bareSecret.slice(0, 6));
  });
});

describe('signing keys with an end (rotation grace period)', () => {
  const keysOf = (value: string) => loadConfig({ HANGLINK_SIGNING_KEYS: value }, readCategories).config.signingKeys;
  const keyProblems = (value: string) => mentioning(problemsOf({ HANGLINK_SIGNING_KEYS: value }), 'HANGLINK_SIGNING_KEYS');

  it('reads "kid@END:secret" as a key that verifies until END, and keeps keys without one open-ended', () => {
    expect(keysOf('new:new-secret-0123456789ab,old@2026-12-31T00:00:00Z:old-secret-0123456789ab')).toEqual([
      { id: 'new', secret: 'new-secret-0123456789ab' },
      { id: 'old', secret: 'old-secret-0123456789ab', notAfterMs: Date.UTC(2026, 11, 31) },
    ]);
    expect(keysOf('new:new-secret-0123456789ab')[0]).not.toHaveProperty('notAfterMs');
  });

  it.each([
    ['Z', '2026-12-31T00:00:00Z', Date.UTC(2026, 11, 31)],
    ['milliseconds', '2026-12-31T00:00:00.250Z', Date.UTC(2026, 11, 31) + 250],
    ['a positive offset', '2026-12-31T08:00:00+08:00', Date.UTC(2026, 11, 31)],
    ['a negative offset', '2026-12-30T19:30:00-04:30', Date.UTC(2026, 11, 31)],
  ])('takes an END with %s', (_, end, ms) => {
    expect(keysOf(`new:new-secret-0123456789ab,old@${end}:old-secret-0123456789ab`)[1]?.notAfterMs).toBe(ms);
  });

  it('keeps every character of a secret after the END, ":" and "@" included', () => {
    expect(keysOf('new:n@w:secret-0123456789ab,old@2026-12-31T00:00:00Z:o@ld:secret:0123456789')).toEqual([
      { id: 'new', secret: 'n@w:secret-0123456789ab' },
      { id: 'old', secret: 'o@ld:secret:0123456789', notAfterMs: Date.UTC(2026, 11, 31) },
    ]);
  });

  it('a secret that looks like an END stays a secret: only the part before the first ":" can carry one', () => {
    expect(keysOf('k1:x@2026-12-31T00:00:00Z:0123456789abcdef')).toEqual([{ id: 'k1', secret: 'x@2026-12-31T00:00:00Z:0123456789abcdef' }]);
  });

  it('accepts a retired key whose END has already passed: it simply verifies nothing', () => {
    expect(keysOf('new:new-secret-0123456789ab,old@2026-01-01T00:00:00Z:old-secret-0123456789ab')[1]?.notAfterMs).toBe(Date.UTC(2026, 0, 1));
  });

  it('refuses any END on the first key, past or to come, naming it and the END: once it passed, new landings would not verify', () => {
    for (const end of ['2026-01-01T00:00:00Z', '2099-06-01T12:00:00Z']) {
      const problems = keyProblems(`old@${end}:old-secret-0123456789ab,new:new-secret-0123456789ab`);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('first key, "old"');
      expect(problems[0]).toContain(new Date(Date.parse(end)).toISOString());
      expect(problems[0]).toContain('cannot carry an end');
      expect(problems[0]).not.toContain('old-secret');
    }
  });

  it.each([
    ['a date without a time', 'old@2026-12-31:old-secret-0123456789ab'],
    ['a time without a zone', 'old@2026-12-31T00:00:00:old-secret-0123456789ab'],
    ['a time without seconds', 'old@2026-12-31T00:00Z:old-secret-0123456789ab'],
    ['a day that does not exist', 'old@2026-02-30T00:00:00Z:old-secret-0123456789ab'],
    ['an hour that does not exist', 'old@2026-12-31T24:00:00Z:old-secret-0123456789ab'],
    ['an offset out of range', 'old@2026-12-31T00:00:00+24:00:old-secret-0123456789ab'],
    ['a unix timestamp', 'old@1798675200:old-secret-0123456789ab'],
    ['words', 'old@next-year:old-secret-0123456789ab'],
    ['an empty END', 'old@:old-secret-0123456789ab'],
    ['an END and no secret', 'old@2026-12-31T00:00:00Z'],
    ['an END and no ":"', 'old@2026-12-31T00:00:00Zold-secret-0123456789ab'],
  ])('refuses an END that is %s, naming the entry and the form, and not the secret', (_, entry) => {
    const problems = keyProblems(`new:new-secret-0123456789ab,${entry}`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('entry 2');
    expect(problems[0]).toContain('kid@END:secret');
    expect(problems[0]).toContain('2026-12-31T00:00:00Z');
    expect(problems[0]).not.toContain('old-secret');
  });

  it('names the kid of an entry with a wrong END only when it has the kid@…:… shape', () => {
    expect(keyProblems('new:new-secret-0123456789ab,old@2026-12-31:old-secret-0123456789ab')[0]).toContain('kid "old"');
    const bare = keyProblems('new:new-secret-0123456789ab,p@ssw0rd-without-a-kid')[0];
    expect(bare).toContain('entry 2');
    expect(bare).not.toContain('p@ss');
  });

  it.each([
    ['a kid that is not one', 'bad kid!@2026-12-31T00:00:00Z:old-secret-0123456789ab', 'entry 2'],
    ['a short secret', 'old@2026-12-31T00:00:00Z:short', 'kid "old"'],
    ['no kid', '@2026-12-31T00:00:00Z:old-secret-0123456789ab', 'entry 2'],
  ])('refuses a key with an END and %s like any other', (_, entry, named) => {
    const problems = keyProblems(`new:new-secret-0123456789ab,${entry}`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(named);
    expect(problems[0]).not.toContain('old-secret');
  });

  it('refuses the same kid twice, with or without an END', () => {
    const problems = keyProblems('k1:new-secret-0123456789ab,k1@2026-12-31T00:00:00Z:old-secret-0123456789ab');
    expect(mentioning(problems, '"k1"', 'twice')).toHaveLength(1);
  });
});

describe('every problem is reported at once', () => {
  it('lists malformed and short keys, a duplicate kid, PORT, an allowed host, REDIS_URL and the category JSON in one ConfigError', () => {
    const problems = problemsOf(
      {
        HANGLINK_SIGNING_KEYS: 'nocolon,bad kid!:secret-0123456789abcdef,kshort:tooshort,k1:secret-0123456789abcdef,k1:other-0123456789abcdef',
        PORT: '70000',
        HANGLINK_ALLOWED_HOSTS: '*.taobao.com,evil..example',
        REDIS_URL: 'http://127.0.0.1:6379',
      },
      () => '{ "open": ["beauty", }',
    );
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS', 'entry 1')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS', 'entry 2')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS', 'kshort')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS', '"k1"', 'twice')).toHaveLength(1);
    expect(mentioning(problems, 'PORT', '70000')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_ALLOWED_HOSTS', 'evil..example')).toHaveLength(1);
    expect(mentioning(problems, 'REDIS_URL')).toHaveLength(1);
    expect(mentioning(problems, 'category policy')).toHaveLength(1);
    expect(problems).toHaveLength(8);
  });

  it('still reports an empty key list and an empty host list when another variable is also wrong', () => {
    const problems = problemsOf({ PORT: 'eighty', HANGLINK_SIGNING_KEYS: ',', HANGLINK_ALLOWED_HOSTS: ' , ' });
    expect(mentioning(problems, 'PORT')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_SIGNING_KEYS')).toHaveLength(1);
    expect(mentioning(problems, 'HANGLINK_ALLOWED_HOSTS')).toHaveLength(1);
  });

  it.each(['abc', '70000', '-1', '80.5', '65536'])('refuses PORT=%s', (port) => {
    expect(mentioning(problemsOf({ PORT: port }), 'PORT', port)).toHaveLength(1);
  });

  it.each(['*.com', 'evil..example', 'http://taobao.com', '*taobao.com', 'taobao.com/x', 'localhost', '.taobao.com', '**.taobao.com'])(
    'refuses HANGLINK_ALLOWED_HOSTS entry %s',
    (entry) => {
      expect(mentioning(problemsOf({ HANGLINK_ALLOWED_HOSTS: `*.tmall.com,${entry}` }), 'HANGLINK_ALLOWED_HOSTS')).toHaveLength(1);
    },
  );

  it.each(['http://127.0.0.1:6379', 'localhost:6379', 'redis:/x', 'tcp://redis:6379'])('refuses REDIS_URL=%s', (url) => {
    expect(mentioning(problemsOf({ REDIS_URL: url }), 'REDIS_URL')).toHaveLength(1);
  });

  it.each(['redis://127.0.0.1:6379', 'rediss://user:pw@redis.example:6380/2'])('accepts REDIS_URL=%s', (url) => {
    expect(loadConfig({ REDIS_URL: url }, readCategories).config.redisUrl).toBe(url);
  });

  it.each([
    ['not JSON', 'open: beauty'],
    ['not an object', '"beauty"'],
    ['a bad category name', '{"open":["Beauty"]}'],
    ['a category both open and whitelist', '{"open":["beauty"],"whitelist":["beauty"]}'],
  ])('refuses a category policy that is %s', (_, text) => {
    expect(mentioning(problemsOf({}, () => text), 'category policy')).toHaveLength(1);
  });

  it('reports a category file that cannot be read as a problem', () => {
    const problems = problemsOf({}, () => {
      throw new Error('ENOENT: no such file');
    });
    expect(mentioning(problems, 'category policy', 'ENOENT')).toHaveLength(1);
  });

  it.each(['ftp://go.example.com', 'go.example.com', 'https://go.example.com/?x=1', 'https://go.example.com/#top'])(
    'refuses HANGLINK_PUBLIC_URL=%s',
    (url) => {
      expect(mentioning(problemsOf({ HANGLINK_PUBLIC_URL: url }), 'HANGLINK_PUBLIC_URL')).toHaveLength(1);
    },
  );

  it('refuses HANGLINK_TRUST_PROXY other than "true" or "false"', () => {
    expect(mentioning(problemsOf({ HANGLINK_TRUST_PROXY: 'yes' }), 'HANGLINK_TRUST_PROXY')).toHaveLength(1);
    expect(loadConfig({ HANGLINK_TRUST_PROXY: 'true' }, readCategories).config.trustProxy).toBe(true);
  });
});
