import { describe, expect, it } from 'vitest';
import { nodeClientIp } from '../../src/runtime/node-fast-tap.js';

describe('nodeClientIp', () => {
  it('takes the first X-Forwarded-For hop, trimmed, behind a trusted proxy', () => {
    expect(nodeClientIp(true, '203.0.113.7', '10.0.0.1')).toBe('203.0.113.7');
    expect(nodeClientIp(true, ' 203.0.113.7 , 10.0.0.2,10.0.0.3', '10.0.0.1')).toBe('203.0.113.7');
    expect(nodeClientIp(true, '2001:db8::1,10.0.0.2', '10.0.0.1')).toBe('2001:db8::1');
  });

  it('gives an empty first hop as it is, not the next one: a client can write that header too', () => {
    expect(nodeClientIp(true, ', 10.0.0.2', '10.0.0.1')).toBe('');
    expect(nodeClientIp(true, '', '10.0.0.1')).toBe('');
  });

  it('takes the socket address without the header, or when the proxy is not trusted', () => {
    expect(nodeClientIp(true, undefined, '10.0.0.1')).toBe('10.0.0.1');
    expect(nodeClientIp(false, '203.0.113.7', '10.0.0.1')).toBe('10.0.0.1');
  });
});
