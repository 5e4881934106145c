import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis every storage test talks to (see redis-server.ts). */
    redisUrl: string;
  }
}
