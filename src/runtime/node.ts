import { ConfigError } from '../config.js';
import { type Gateway, startGateway } from './node-gateway.js';

// Past this, a stuck drain (Redis gone for good) must not keep an orchestrator waiting forever.
const SHUTDOWN_DEADLINE_MS = 20_000;

function fail(error: unknown): never {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

async function drain(gateway: Gateway, signal: string): Promise<void> {
  console.log(`hanglink: ${signal}, draining (${gateway.clicks.depth} clicks buffered)`);
  setTimeout(() => {
    console.error(`hanglink: drain did not finish within ${SHUTDOWN_DEADLINE_MS} ms, exiting with ${gateway.clicks.depth} clicks unwritten`);
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  await gateway.shutdown();
  console.log(`hanglink: stopped, ${gateway.clicks.written} clicks written`);
  process.exit(0);
}

const starting = startGateway(process.env);
// Installed before the server listens, so a signal that arrives during start-up still drains.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    starting.then((gateway) => drain(gateway, signal)).catch(fail);
  });
}
starting.catch(fail);
