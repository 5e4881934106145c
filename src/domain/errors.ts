/**
 * Every refusal the gateway can give, as data. The HTTP layer maps `kind` to a status and
 * `code` to a problem type in one place (src/http/problems.ts); the domain never knows about HTTP.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'gone'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable';

export class HanglinkError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HanglinkError';
  }
}

export const invalid = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new HanglinkError('invalid', code, 'Invalid request', detail, extra);

export const notFound = (what: string) =>
  new HanglinkError('not_found', 'not-found', 'Not found', `No ${what} with that id exists.`);
