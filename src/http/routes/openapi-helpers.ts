import * as s from '../schemas.js';

/** Shorthands the route files share when describing responses for /openapi.json. */
export const merchantSecurity = [{ merchantKey: [] }];
export const jsonResponse = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: s.Problem } } });
export const jsonBody = <T>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
