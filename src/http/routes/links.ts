import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { HanglinkError } from '../../domain/errors.js';
import type { Link } from '../../domain/link.js';
import { deleteLink, type LinkServiceDeps, mintLink, ownLink, updateLink } from '../../services/links.js';
import type { LinkStore, StatsStore } from '../../store/types.js';
import type { AppEnv } from '../env.js';
import { linkView } from '../link-view.js';
import { errorProblem, validationError, validationHook } from '../problems.js';
import * as s from '../schemas.js';
import { jsonBody, jsonResponse as json, merchantSecurity as security, problemResponse as problem } from './openapi-helpers.js';

export interface LinkRouteDeps extends LinkServiceDeps {
  store: LinkStore & StatsStore;
  publicUrl: string;
}


const mint = createRoute({
  method: 'post',
  path: '/v1/links',
  summary: 'Mint a link',
  security,
  request: jsonBody(s.NewLink),
  responses: {
    201: json(s.Link, 'Created'),
    200: json(s.Link, 'A link with this externalId already existed; it is returned unchanged'),
    ...s.problemResponses,
    403: problem('Category needs approval'),
    409: problem('Slug taken'),
  },
});

const bulk = createRoute({
  method: 'post',
  path: '/v1/links/bulk',
  summary: 'Mint up to 1,000 links; answers per item',
  security,
  request: jsonBody(s.BulkRequest),
  responses: { 200: json(s.BulkResult, 'One result per item, in order'), ...s.problemResponses },
});

const list = createRoute({
  method: 'get',
  path: '/v1/links',
  summary: "List the merchant's links, newest first",
  security,
  request: { query: s.ListQuery },
  responses: { 200: json(s.LinkList, 'A page of links'), ...s.problemResponses },
});

const read = createRoute({
  method: 'get',
  path: '/v1/links/{code}',
  summary: 'Read a link',
  security,
  request: { params: s.CodeParam },
  responses: { 200: json(s.Link, 'The link'), ...s.problemResponses, 404: problem('No such link') },
});

const patch = createRoute({
  method: 'patch',
  path: '/v1/links/{code}',
  summary: 'Change the destination, pause or resume, or change the expiry',
  security,
  request: { params: s.CodeParam, ...jsonBody(s.LinkPatch) },
  responses: { 200: json(s.Link, 'The changed link'), ...s.problemResponses, 404: problem('No such link'), 409: problem('The link kept changing under 10 attempts; retry'), 410: problem('Link deleted') },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/links/{code}',
  summary: 'Delete a link: its short URL then answers 410 Gone',
  security,
  request: { params: s.CodeParam },
  responses: { 204: { description: 'Deleted' }, ...s.problemResponses, 404: problem('No such link'), 409: problem('The link kept changing under 10 attempts; retry') },
});

export function linkRoutes(deps: LinkRouteDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const view = async (link: Link) => linkView(link, (await deps.store.clickCounts([link.code])).get(link.code) ?? 0, deps.publicUrl);

  routes.openapi(mint, async (c) => {
    const { link, created } = await mintLink(deps, c.get('merchant'), c.req.valid('json'));
    return created ? c.json(await view(link), 201) : c.json(await view(link), 200);
  });

  routes.openapi(bulk, async (c) => {
    const merchant = c.get('merchant');
    const results = await Promise.all(
      c.req.valid('json').items.map(async (item, index) => {
        const parsed = s.NewLink.safeParse(item);
        try {
          if (!parsed.success) throw validationError(parsed.error);
          const { link, created } = await mintLink(deps, merchant, parsed.data);
          return { index, status: created ? 201 : 200, link };
        } catch (error) {
          if (!(error instanceof HanglinkError) || error.kind === 'unavailable') throw error;
          const problem = errorProblem(error);
          return { index, status: problem.status, error: problem };
        }
      }),
    );
    const minted = results.flatMap((r) => (r.link === undefined ? [] : [r.link.code]));
    const counts = await deps.store.clickCounts(minted);
    const count = (status: number) => results.filter((r) => r.status === status).length;
    return c.json(
      {
        created: count(201),
        existing: count(200),
        failed: results.length - count(201) - count(200),
        results: results.map(({ link, ...rest }) =>
          link === undefined ? rest : { ...rest, link: linkView(link, counts.get(link.code) ?? 0, deps.publicUrl) },
        ),
      },
      200,
    );
  });

  routes.openapi(list, async (c) => {
    const { noteId, campaignId, cursor, limit } = c.req.valid('query');
    const page = await deps.store.listLinks(c.get('merchant').id, { noteId, campaignId }, limit, cursor ?? null);
    const counts = await deps.store.clickCounts(page.links.map((l) => l.code));
    const links = page.links.map((l) => linkView(l, counts.get(l.code) ?? 0, deps.publicUrl));
    return c.json({ links, nextCursor: page.nextCursor }, 200);
  });

  routes.openapi(read, async (c) => c.json(await view(await ownLink(deps.store, c.get('merchant'), c.req.valid('param').code)), 200));

  routes.openapi(patch, async (c) =>
    c.json(await view(await updateLink(deps, c.get('merchant'), c.req.valid('param').code, c.req.valid('json'))), 200),
  );

  routes.openapi(remove, async (c) => {
    await deleteLink(deps, c.get('merchant'), c.req.valid('param').code);
    return c.body(null, 204);
  });

  return routes;
}
