import { describe, expect, it } from 'vitest';
import { hashApiKey, secretsEqual } from '../../src/domain/api-key.js';

describe('hashApiKey', () => {
  it('is the hex SHA-256 of the key (values from `printf %s KEY | sha256sum`)', () => {
    expect(hashApiKey('hlk_live_4f9a2c7e1b8d')).toBe('b0f5760b59d45335390d14916d6136ea3d20730cca81504709375f146baad02b');
    expect(hashApiKey('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('is deterministic, 64 lowercase hex characters, and differs for different keys', () => {
    const key = 'hlk_live_some-other-key';
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toBe(hashApiKey(`${key}x`));
  });

  it('never contains the key itself', () => {
    const key = 'abc123';
    expect(hashApiKey(key)).not.toContain(key);
  });
});

describe('secretsEqual', () => {
  it('is true for equal secrets', () => {
    expect(secretsEqual('s3cret-admin-token-0123', 's3cret-admin-token-0123')).toBe(true);
    expect(secretsEqual('', '')).toBe(true);
  });

  it('is false for secrets that differ anywhere', () => {
    expect(secretsEqual('s3cret-admin-token-0123', 's3cret-admin-token-0124')).toBe(false);
    expect(secretsEqual('X3cret-admin-token-0123', 's3cret-admin-token-0123')).toBe(false);
    expect(secretsEqual('S3CRET-ADMIN-TOKEN-0123', 's3cret-admin-token-0123')).toBe(false);
  });

  it('is false (and does not throw) for secrets of different lengths, including a prefix and the empty string', () => {
    expect(secretsEqual('s3cret', 's3cret-admin-token-0123')).toBe(false);
    expect(secretsEqual('s3cret-admin-token-0123', 's3cret')).toBe(false);
    expect(secretsEqual('', 's3cret-admin-token-0123')).toBe(false);
    expect(secretsEqual('s3cret-admin-token-0123', '')).toBe(false);
  });
});
