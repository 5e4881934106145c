import { ConfigError } from '../config.js';
import { startGateway } from './node-gateway.js';

// Past this, a stuck drain (Redis gone for good) must not keep an orchestrator waiting forever.
const SHUTDOWN_DEADLINE_MS = 20_000;

try {
  const gateway = await startGateway(process.env);
  const stop = (signal: string) => {
    console.log(`hanglink: ${signal}, draining (${gateway.clicks.depth} clicks buffered)`);
    setTimeout(() => {
      console.error(`hanglink: drain did not finish within ${SHUTDOWN_DEADLINE_MS} ms, exiting with ${gateway.clicks.depth} clicks unwritten`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    gateway.shutdown().then(
      () => {
        console.log(`hanglink: stopped, ${gateway.clicks.written} clicks written`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error('hanglink: shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
