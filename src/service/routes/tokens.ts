import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Store } from '../../store/index.js';
import type { Clock } from '../../types/index.js';
import { access } from '../access.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../auth/api-tokens.js';
import { problemResponses } from '../schemas/common.js';
import {
  CreatedToken,
  CreateTokenBody,
  ListTokensQuery,
  TokenList,
  TokenRefParams,
  TokenSchema,
  tokenBody,
} from '../schemas/token.js';

/** tokenRoutes lets admins list, create and revoke API keys under /api/tokens. */
export const tokenRoutes: FastifyPluginAsyncZod<{ store: Store; clock: Clock }> = async (app, { store, clock }) => {
  app.get(
    '/api/tokens',
    {
      config: access('admin', 'tokens.list', { mutates: false }),
      schema: {
        tags: ['tokens'],
        operationId: 'listTokens',
        summary: 'List API keys, oldest first (never their secrets)',
        querystring: ListTokensQuery,
        response: { 200: TokenList, ...problemResponses(400) },
      },
    },
    async (request) => ({
      tokens: (await listApiTokens(store, { includeRevoked: request.query.includeRevoked })).map(tokenBody),
    }),
  );

  app.post(
    '/api/tokens',
    {
      config: access('admin', 'tokens.create'),
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary: 'Create an API key; its secret is in this answer only',
        description: 'A name already held by a live key answers 409: revoke that key first, or pick another name.',
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...problemResponses(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { token, secret } = await createApiToken(store, { ...request.body, now: clock.now() });
      // The secret must not linger in caches or proxies.
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...tokenBody(token), secret });
    },
  );

  app.delete(
    '/api/tokens/:id',
    {
      config: access('admin', 'tokens.revoke'),
      schema: {
        tags: ['tokens'],
        operationId: 'revokeToken',
        summary: 'Revoke an API key (by id, or by the name of a live key)',
        description: 'Requests with the key are refused from now on. Revoking a revoked key again answers it unchanged.',
        params: TokenRefParams,
        response: { 200: TokenSchema, ...problemResponses(400, 404) },
      },
    },
    async (request) => tokenBody(await revokeApiToken(store, request.params.id, { now: clock.now() })),
  );
};
