import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkApprovals, checkCategory, isKnownCategory, parseCategoryPolicy } from '../../src/domain/categories.js';
import { HanglinkError } from '../../src/domain/errors.js';

const POLICY = parseCategoryPolicy({ open: ['beauty', 'nutrition'], whitelist: ['health-check', 'medical-device'] });

function refusal(run: () => unknown): HanglinkError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HanglinkError);
    return error as HanglinkError;
  }
  throw new Error('expected a HanglinkError, but nothing was thrown');
}

describe('parseCategoryPolicy', () => {
  it('accepts a policy with open and whitelist categories', () => {
    expect(parseCategoryPolicy({ open: ['beauty', 'sports-outdoor'], whitelist: ['health-check'] })).toEqual({
      open: ['beauty', 'sports-outdoor'],
      whitelist: ['health-check'],
    });
  });

  it('treats a missing whitelist as empty', () => {
    expect(parseCategoryPolicy({ open: ['beauty'] })).toEqual({ open: ['beauty'], whitelist: [] });
  });

  it.each([
    ['null', null],
    ['a string', 'beauty'],
    ['a number', 3],
    ['undefined', undefined],
  ])('refuses %s, which is not an object', (_, doc) => {
    expect(() => parseCategoryPolicy(doc)).toThrow(/object/);
  });

  it.each([
    ['open missing', { whitelist: ['health-check'] }, /"open"/],
    ['open not an array', { open: 'beauty' }, /"open"/],
    ['an upper-case name', { open: ['Beauty'] }, /"open"/],
    ['a name with a space', { open: ['home cleaning'] }, /"open"/],
    ['an empty name', { open: [''] }, /"open"/],
    ['a name starting with a dash', { open: ['-beauty'] }, /"open"/],
    ['a name of 65 characters', { open: ['a'.repeat(65)] }, /"open"/],
    ['a non-string name', { open: [1] }, /"open"/],
    ['a bad whitelist name', { open: ['beauty'], whitelist: ['Health_Check'] }, /"whitelist"/],
    ['whitelist not an array', { open: ['beauty'], whitelist: {} }, /"whitelist"/],
  ])('refuses %s, naming the list', (_, doc, message) => {
    expect(() => parseCategoryPolicy(doc)).toThrow(message);
  });

  it('refuses a category that is both open and whitelist, naming it', () => {
    expect(() => parseCategoryPolicy({ open: ['beauty', 'health-check'], whitelist: ['health-check'] })).toThrow(
      /health-check.*both open and whitelist/,
    );
  });
});

describe('checkCategory', () => {
  it('lets every merchant use an open category', () => {
    expect(() => checkCategory(POLICY, 'beauty', [])).not.toThrow();
    expect(() => checkCategory(POLICY, 'nutrition', ['health-check'])).not.toThrow();
  });

  it('refuses a whitelist category to a merchant without approval: 403 forbidden, naming the category', () => {
    const error = refusal(() => checkCategory(POLICY, 'health-check', []));
    expect(error.kind).toBe('forbidden');
    expect(error.code).toBe('category-not-approved');
    expect(error.extra).toMatchObject({ field: 'category', category: 'health-check' });
    expect(refusal(() => checkCategory(POLICY, 'health-check', ['medical-device'])).kind).toBe('forbidden');
  });

  it('lets a merchant approved for a whitelist category use it', () => {
    expect(() => checkCategory(POLICY, 'health-check', ['health-check'])).not.toThrow();
  });

  it('refuses a category the policy does not name as invalid, listing the categories there are', () => {
    const error = refusal(() => checkCategory(POLICY, 'firearms', []));
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('category-not-open');
    expect(error.detail).toContain('beauty');
    expect(error.detail).toContain('health-check');
  });

  it('does not let an approval for an unknown category open it', () => {
    expect(refusal(() => checkCategory(POLICY, 'firearms', ['firearms'])).kind).toBe('invalid');
  });

  it('matches names exactly (no case folding, no prefixes)', () => {
    expect(refusal(() => checkCategory(POLICY, 'Beauty', [])).kind).toBe('invalid');
    expect(refusal(() => checkCategory(POLICY, 'beaut', [])).kind).toBe('invalid');
  });
});

describe('isKnownCategory', () => {
  it('knows open and whitelist categories, and nothing else', () => {
    expect(isKnownCategory(POLICY, 'beauty')).toBe(true);
    expect(isKnownCategory(POLICY, 'medical-device')).toBe(true);
    expect(isKnownCategory(POLICY, 'firearms')).toBe(false);
  });
});

describe('checkApprovals', () => {
  it('returns whitelist categories sorted and without duplicates', () => {
    expect(checkApprovals(POLICY, ['medical-device', 'health-check', 'medical-device'])).toEqual(['health-check', 'medical-device']);
    expect(checkApprovals(POLICY, [])).toEqual([]);
  });

  it('refuses to approve an open or unknown category, naming each', () => {
    const error = refusal(() => checkApprovals(POLICY, ['health-check', 'beauty', 'firearms']));
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('category-not-whitelisted');
    expect(error.detail).toContain('beauty');
    expect(error.detail).toContain('firearms');
    expect(error.detail).not.toContain('health-check');
  });
});

describe('config/categories.json', () => {
  const text = readFileSync(new URL('../../config/categories.json', import.meta.url), 'utf8');

  it('parses as a policy listing exactly the pilot categories', () => {
    const policy = parseCategoryPolicy(JSON.parse(text));
    expect([...policy.open].sort()).toEqual(
      ['beauty', 'mother-baby', 'personal-care', 'sports-outdoor', 'home-cleaning', 'nutrition', 'health-food'].sort(),
    );
    expect([...policy.whitelist].sort()).toEqual(['health-check', 'medical-device']);
  });

  it('lists no category twice', () => {
    const policy = parseCategoryPolicy(JSON.parse(text));
    const all = [...policy.open, ...policy.whitelist];
    expect(new Set(all).size).toBe(all.length);
  });
});
