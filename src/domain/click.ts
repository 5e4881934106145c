import { isIPv4, isIPv6 } from 'node:net';

/**
 * One tap on a link, as stored. The client IP is never kept whole: only its network prefix
 * (/24 for IPv4, /48 for IPv6), enough to tell visitors apart for fraud checks, not to find a person.
 */
export interface ClickRecord {
  clickId: string;
  linkCode: string;
  merchantId: string;
  noteId: string;
  campaignId: string | null;
  /** ms since epoch */
  at: number;
  userAgent: string;
  referrer: string;
  acceptLanguage: string;
  ipPrefix: string;
}

export interface ClickFacts {
  userAgent: string | undefined;
  referrer: string | undefined;
  acceptLanguage: string | undefined;
  ip: string | undefined;
}

const LIMITS = { userAgent: 512, referrer: 1024, acceptLanguage: 128 } as const;

// Header values are attacker-controlled: keep them bounded and printable, never reject the tap.
function clean(value: string | undefined, limit: number): string {
  if (value === undefined) return '';
  const cut = value.length > limit ? value.slice(0, limit) : value;
  return /[^\x20-\x7e]/.test(cut) ? cut.replace(/[^\x20-\x7e]/g, '?') : cut;
}

/** The /24 or /48 network of an address, or '' for anything that is not an IP address (it may come from X-Forwarded-For). */
export function ipPrefix(ip: string | undefined): string {
  if (ip === undefined || ip === '') return '';
  const v4 = /^(?:::ffff:)?(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(ip)?.[1];
  if (v4 !== undefined) {
    if (!isIPv4(v4)) return '';
    const [a, b, c] = v4.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  if (isIPv6(ip)) {
    const [head = ''] = ip.split('%')[0]!.split('::');
    const groups = head.split(':').filter((g) => g !== '');
    const kept = [...groups.slice(0, 3), '0', '0', '0'].slice(0, 3).map((g) => parseInt(g, 16).toString(16));
    return `${kept.join(':')}::/48`;
  }
  return '';
}

export function clickRecord(
  base: Pick<ClickRecord, 'clickId' | 'linkCode' | 'merchantId' | 'noteId' | 'campaignId' | 'at'>,
  facts: ClickFacts,
): ClickRecord {
  return {
    ...base,
    userAgent: clean(facts.userAgent, LIMITS.userAgent),
    referrer: clean(facts.referrer, LIMITS.referrer),
    acceptLanguage: clean(facts.acceptLanguage, LIMITS.acceptLanguage),
    ipPrefix: ipPrefix(facts.ip),
  };
}
