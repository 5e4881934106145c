import { type ClickRecord, enrichClick, type StoredClick } from '../domain/click.js';
import type { UserAgentCache } from '../domain/user-agent.js';

/** The buffer's enrichment step, sharing the process's user-agent cache with the redirect. */
export function clickEnricher(userAgents: UserAgentCache): (click: ClickRecord) => StoredClick {
  return (click) => enrichClick(click, userAgents.classify(click.userAgent));
}
