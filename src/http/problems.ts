import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { type ErrorKind, HanglinkError } from '../domain/errors.js';

/** RFC 9457 problem documents: the one place where refusals become HTTP. */
export const PROBLEM_TYPE_BASE = 'https://hanglink.dev/problems/';

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extra: string]: unknown;
}

export function problemBody(status: number, code: string, title: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: PROBLEM_TYPE_BASE + code, title, status, detail, ...extra };
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
  });
}

export function errorProblem(error: HanglinkError): Problem {
  return problemBody(STATUS[error.kind], error.code, error.title, error.detail, error.extra);
}

// What a refusal of the whole of a part of the request (an unknown query key, say) names.
const PART_NAMES: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'headers' };

export function validationError(error: ZodError, target = 'json'): HanglinkError {
  const errors = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const first = errors[0];
  const detail = first === undefined ? 'The request is not valid.' : `${first.path || (PART_NAMES[target] ?? target)}: ${first.message}`;
  return new HanglinkError('invalid', 'validation-failed', 'Invalid request', detail, { errors });
}

/** The zod-openapi hook every router uses: a failed validation becomes the same problem everywhere. */
export const validationHook = (result: { success: true } | { success: false; error: ZodError; target: string }): void => {
  if (!result.success) throw validationError(result.error, result.target);
};

// Hono and its validators throw these themselves; they get the same problem types as our own refusals.
const HTTP_EXCEPTION_PROBLEMS: Record<number, [code: string, title: string]> = {
  413: ['body-too-large', 'Request body too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
};

/**
 * Maps anything thrown while handling a request to a problem response. Only a bug reaches the
 * last branch; it is logged and answered without internals.
 */
export function toProblemResponse(error: unknown, log: (error: unknown) => void): Response {
  if (error instanceof HanglinkError) {
    const headers: Record<string, string> =
      error.kind === 'unauthorized'
        ? { 'www-authenticate': 'Bearer' }
        : error.kind === 'rate_limited'
          ? { 'retry-after': String(error.extra.retryAfterSeconds) }
          : {};
    return problemResponse(errorProblem(error), headers);
  }
  if (error instanceof HTTPException && error.status < 500) {
    const [code, title] = HTTP_EXCEPTION_PROBLEMS[error.status] ?? ['bad-request', 'Bad request'];
    return problemResponse(problemBody(error.status, code, title, error.message || title));
  }
  log(error);
  return problemResponse(problemBody(500, 'internal', 'Internal error', 'The gateway failed to handle this request.'));
}
