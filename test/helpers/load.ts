import { SHOPPER_USER_AGENT } from './app.js';

export interface TapLoad {
  /** Answers so far, by status (0: the request failed outright). */
  readonly statuses: Map<number, number>;
  /** When each 302 arrived (ms since epoch), in arrival order. */
  readonly redirectedAt: number[];
  /** Lets each tapper finish the tap it is waiting for, then stop. */
  stop(): Promise<void>;
}

/**
 * A bounded request loop: `concurrency` tappers each tap `url` one after another until stopped,
 * so every tap sent is answered and counted (no request is cut off in flight).
 */
export function tapLoad(url: string, concurrency: number): TapLoad {
  const statuses = new Map<number, number>();
  const redirectedAt: number[] = [];
  let running = true;
  const tapper = async () => {
    while (running) {
      let status = 0;
      try {
        const res = await fetch(url, { redirect: 'manual', headers: { 'user-agent': SHOPPER_USER_AGENT } });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      if (status === 302) redirectedAt.push(Date.now());
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const tappers = Array.from({ length: concurrency }, tapper);
  return {
    statuses,
    redirectedAt,
    async stop() {
      running = false;
      await Promise.all(tappers);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` answers true, or fails after `timeoutMs` with `what`. */
export async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
