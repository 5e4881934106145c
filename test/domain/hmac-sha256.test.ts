import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Base64url } from '../../src/domain/hmac-sha256.js';

const reference = (secret: string, message: string) => createHmac('sha256', secret).update(message).digest('base64url');
const hexToBase64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

describe('hmacSha256Base64url', () => {
  it('gives the RFC 4231 results for its text keys', () => {
    // Test cases 1 and 2 of RFC 4231: the ones whose keys are text (a secret is a string).
    expect(hmacSha256Base64url('\x0b'.repeat(20), 'Hi There')).toBe(hexToBase64url('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'));
    expect(hmacSha256Base64url('Jefe', 'what do ya want for nothing?')).toBe(hexToBase64url('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'));
  });

  it('agrees with node:crypto at every length around the block and padding edges, for short and long keys', () => {
    const secrets = ['', 'k', 'a'.repeat(63), 'b'.repeat(64), 'c'.repeat(65), 'd'.repeat(200), 'ключ🔑'];
    for (const secret of secrets) {
      for (let length = 0; length <= 200; length++) {
        const message = 'm'.repeat(length);
        expect(hmacSha256Base64url(secret, message), `secret of ${secret.length}, message of ${length}`).toBe(reference(secret, message));
      }
    }
  });

  it('agrees with node:crypto for any secret and message, keys interleaved', () => {
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 8 }), (pairs) => {
        for (const [secret, message] of pairs) expect(hmacSha256Base64url(secret, message)).toBe(reference(secret, message));
      }),
      { numRuns: 300 },
    );
  });

  it('signs a message longer than the space it keeps, and short ones after it', () => {
    const long = `https://shop.example.com/item?q=${'é€𝄞'.repeat(3000)}`;
    expect(hmacSha256Base64url('secret', long)).toBe(reference('secret', long));
    expect(hmacSha256Base64url('secret', 'short')).toBe(reference('secret', 'short'));
  });

  it('keeps signing right past the number of keys it remembers', () => {
    for (let i = 0; i < 40; i++) expect(hmacSha256Base64url(`key-${i % 20}`, `message ${i}`)).toBe(reference(`key-${i % 20}`, `message ${i}`));
  });
});
