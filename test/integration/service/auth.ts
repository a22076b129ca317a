import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import { TokenNameTakenError, TokenNotFoundError, ValidationError } from '../../../src/errors/index.js';
import type { Principal } from '../../../src/service/access.js';
import {
  createApiToken,
  hashTokenSecret,
  jobyardService,
  listApiTokens,
  resolveServiceOptions,
  revokeApiToken,
} from '../../../src/service/index.js';
import {
  ADMIN_TOKEN,
  assertProblem,
  bearer,
  inject,
  type MakeStore,
  noop,
  sendEmail,
  silentLogger,
  useService,
} from './fixtures.js';

const JWT_SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'jobyard';

/** hs256 signs a JWT with the test secret, issuer and audience, expiring in an hour; `claims` and `options` override. */
function hs256(
  claims: JWTPayload,
  { secret = JWT_SECRET, expiresAt }: { secret?: string; expiresAt?: number } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresAt ?? Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(secret));
}

const enqueueNoop = { task: 'noop', payload: null };

/** authSuite tests API keys, JWTs, the dev token and auth: false through HTTP. */
export function authSuite(makeStore: MakeStore): void {
  describe('API keys', () => {
    const service = useService(makeStore);

    it('creates a key (its secret shown once), authenticates with it, lists it without the secret, and revokes it', async () => {
      const created = await service.call('POST', '/api/tokens', { payload: { name: 'ci', role: 'operator' } });
      assert.equal(created.status, 201, created.raw);
      assert.equal(created.headers['cache-control'], 'no-store');
      const { secret, ...token } = created.body;
      assert.match(secret, /^jy_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(
        { name: token.name, role: token.role, lastUsedAt: token.lastUsedAt, revokedAt: token.revokedAt },
        {
          name: 'ci',
          role: 'operator',
          lastUsedAt: null,
          revokedAt: null,
        },
      );

      const enqueued = await service.call('POST', '/api/jobs', { headers: bearer(secret), payload: enqueueNoop });
      assert.equal(enqueued.status, 201, enqueued.raw);
      const forbidden = await service.call('GET', '/api/tokens', { headers: bearer(secret) });
      const problem = assertProblem(forbidden, 403, 'JOBYARD_FORBIDDEN');
      assert.match(problem.detail, /GET \/api\/tokens \(tokens\.list\) needs the admin role; ci has operator/);
      assert.match(String(forbidden.headers['www-authenticate']), /error="insufficient_scope"/);

      const listed = await service.call('GET', '/api/tokens');
      assert.equal(listed.status, 200);
      assert.equal(listed.body.tokens.length, 1);
      assert.equal(listed.body.tokens[0].id, token.id);
      assert.equal(listed.body.tokens[0].secret, undefined);
      assert.doesNotMatch(listed.raw, new RegExp(secret));
      assert.ok(listed.body.tokens[0].lastUsedAt !== null, 'using the key recorded lastUsedAt');

      assertProblem(
        await service.call('POST', '/api/tokens', { payload: { name: 'ci', role: 'admin' } }),
        409,
        'JOBYARD_TOKEN_NAME_TAKEN',
      );

      const revoked = await service.call('DELETE', '/api/tokens/ci');
      assert.equal(revoked.status, 200, revoked.raw);
      assert.equal(revoked.body.id, token.id);
      assert.ok(revoked.body.revokedAt !== null);
      const refused = await service.call('GET', '/api/jobs', { headers: bearer(secret) });
      assertProblem(refused, 401, 'JOBYARD_UNAUTHENTICATED');
      assert.match(String(refused.headers['www-authenticate']), /error="invalid_token"/);
      const again = await service.call('DELETE', `/api/tokens/${token.id}`);
      assert.deepEqual(again.body, revoked.body);
      assertProblem(await service.call('DELETE', '/api/tokens/ci'), 404, 'JOBYARD_TOKEN_NOT_FOUND');

      assert.deepEqual((await service.call('GET', '/api/tokens')).body, { tokens: [] });
      const all = await service.call('GET', '/api/tokens?includeRevoked=true');
      assert.deepEqual(
        all.body.tokens.map((listedToken: { id: string }) => listedToken.id),
        [token.id],
      );
      const reused = await service.call('POST', '/api/tokens', { payload: { name: 'ci', role: 'viewer' } });
      assert.equal(reused.status, 201, 'a revoked key frees its name');
    });

    it('refuses bad token requests with 400', async () => {
      for (const payload of [{ name: 'ci', role: 'root' }, { name: 'has space', role: 'viewer' }, { name: 'ci' }, {}]) {
        assertProblem(await service.call('POST', '/api/tokens', { payload }), 400, 'JOBYARD_VALIDATION');
      }
      assertProblem(await service.call('GET', '/api/tokens?includeRevoked=yes'), 400, 'JOBYARD_VALIDATION');
    });

    it('gives the CLI library functions that return the secret only at creation and keep only its hash', async () => {
      const store = service.client().store;
      const { token, secret } = await createApiToken(store, { name: 'deploy', role: 'admin' });
      assert.deepEqual(await store.tokenFindByHash({ secretHash: hashTokenSecret(secret) }), token);
      assert.deepEqual(await listApiTokens(store), [token]);
      assert.ok(!JSON.stringify(await listApiTokens(store)).includes(secret));
      await assert.rejects(createApiToken(store, { name: 'deploy', role: 'viewer' }), TokenNameTakenError);
      await assert.rejects(createApiToken(store, { name: 'other', role: 'root' as never }), ValidationError);
      const revoked = await revokeApiToken(store, 'deploy');
      assert.equal(revoked.id, token.id);
      assert.ok(revoked.revokedAt instanceof Date);
      assert.deepEqual(await listApiTokens(store), []);
      assert.deepEqual(await listApiTokens(store, { includeRevoked: true }), [revoked]);
      await assert.rejects(revokeApiToken(store, 'deploy'), TokenNotFoundError);
      assert.deepEqual(await revokeApiToken(store, token.id), revoked, 'revoking by id again changes nothing');
    });

    it('answers 401 with WWW-Authenticate for missing, malformed and unknown credentials, before reading the body', async () => {
      const noCredentials = await service.call('GET', '/api/jobs', { headers: { authorization: '' } });
      assertProblem(noCredentials, 401, 'JOBYARD_UNAUTHENTICATED');
      assert.equal(noCredentials.headers['www-authenticate'], 'Bearer realm="jobyard"');
      for (const authorization of [
        'Basic dXNlcjpwYXNz',
        'Bearer',
        'Bearer  ',
        `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`,
        `Bearer ${ADMIN_TOKEN}x`,
        `Bearer jy_${'A'.repeat(43)}`,
        'Bearer a.b.c',
        `Bearer ${'x'.repeat(100_000)}`,
        'Bearer \u00e9',
      ]) {
        const answer = await service.call('GET', '/api/jobs', { headers: { authorization } });
        assertProblem(answer, 401, 'JOBYARD_UNAUTHENTICATED');
        assert.match(String(answer.headers['www-authenticate']), /^Bearer realm="jobyard", error="invalid_token"$/);
      }
      assert.equal(
        (await service.call('GET', '/api/jobs', { headers: { authorization: `bearer   ${ADMIN_TOKEN}` } })).status,
        200,
      );

      // Without credentials, nothing about the body is told: no 400, 413 or 415 before the 401.
      const probes = [
        { headers: { authorization: '', 'content-type': 'application/json' }, payload: '{"task": ' },
        { headers: { authorization: '', 'content-type': 'application/xml' }, payload: '<job/>' },
        { headers: { authorization: '', 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(2e6) }) },
        { headers: { authorization: '', 'content-type': 'application/json' }, payload: '{"task": "nope"}' },
      ];
      for (const probe of probes) assertProblem(await service.call('POST', '/api/jobs', probe), 401, 'JOBYARD_UNAUTHENTICATED');
    });

    it('lets public routes through without credentials, and with bad ones', async () => {
      for (const authorization of ['', 'Bearer wrong', 'Basic x']) {
        assert.equal((await service.call('GET', '/health', { headers: { authorization } })).status, 200);
        assert.equal((await service.call('GET', '/health/ready', { headers: { authorization } })).status, 200);
        assert.equal((await service.call('GET', '/openapi.json', { headers: { authorization } })).status, 200);
      }
      const unknown = await service.call('GET', '/api/nope', { headers: { authorization: '' } });
      assertProblem(unknown, 404, 'JOBYARD_ROUTE_NOT_FOUND');
    });

    it('declares the bearer scheme in the OpenAPI document', async () => {
      const document = (await service.call('GET', '/openapi.json', { headers: { authorization: '' } })).body;
      assert.deepEqual(document.components.securitySchemes.bearerAuth.type, 'http');
      assert.deepEqual(document.components.securitySchemes.bearerAuth.scheme, 'bearer');
      assert.deepEqual(document.paths['/api/jobs'].post.security, [{ bearerAuth: [] }]);
      assert.equal(document.paths['/health'].get.security, undefined);
      assert.match(document.paths['/api/jobs'].post.description, /Requires the `operator` role or above/);
    });
  });

  describe('JWT (HS256)', () => {
    const service = useService(makeStore, {
      auth: { devToken: ADMIN_TOKEN, jwt: { secret: JWT_SECRET, issuer: ISSUER, audience: AUDIENCE } },
    });

    it('authenticates a signed token with the role in its claim', async () => {
      const operator = await hs256({ sub: 'user-1', role: 'operator' });
      assert.equal((await service.call('POST', '/api/jobs', { headers: bearer(operator), payload: enqueueNoop })).status, 201);
      const forbidden = assertProblem(
        await service.call('GET', '/api/tokens', { headers: bearer(operator) }),
        403,
        'JOBYARD_FORBIDDEN',
      );
      assert.match(forbidden.detail, /user-1 has operator/);
      // An array of roles counts its most powerful known one.
      const admin = await hs256({ sub: 'user-2', role: ['viewer', 'unknown', 'admin'] });
      assert.equal((await service.call('GET', '/api/tokens', { headers: bearer(admin) })).status, 200);
    });

    it('refuses expired, wrongly signed, unsigned and role-less tokens and wrong issuers or audiences with 401', async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, Promise<string>, RegExp][] = [
        ['expired', hs256({ sub: 'u', role: 'admin' }, { expiresAt: now - 60 }), /expired/],
        ['wrong secret', hs256({ sub: 'u', role: 'admin' }, { secret: 'another-secret-of-at-least-32-bytes!' }), /signature/],
        ['no role claim', hs256({ sub: 'u' }), /"role" claim names no role/],
        ['unknown role', hs256({ sub: 'u', role: 'root' }), /"role" claim names no role/],
        ['no subject', hs256({ role: 'admin' }), /"sub"/],
        [
          'wrong issuer',
          new SignJWT({ sub: 'u', role: 'admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuer('https://elsewhere.test')
            .setAudience(AUDIENCE)
            .sign(new TextEncoder().encode(JWT_SECRET)),
          /"iss"/,
        ],
        [
          'wrong audience',
          new SignJWT({ sub: 'u', role: 'admin' })
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuer(ISSUER)
            .setAudience('other')
            .sign(new TextEncoder().encode(JWT_SECRET)),
          /"aud"/,
        ],
        [
          'unsigned',
          Promise.resolve(new UnsecuredJWT({ sub: 'u', role: 'admin' }).setIssuer(ISSUER).setAudience(AUDIENCE).encode()),
          /./,
        ],
      ];
      for (const [name, token, detail] of cases) {
        const answer = await service.call('GET', '/api/jobs', { headers: bearer(await token) });
        const problem = assertProblem(answer, 401, 'JOBYARD_UNAUTHENTICATED');
        assert.match(problem.detail, detail, name);
      }
    });
  });

  describe('JWT (JWKS URL)', () => {
    let jwks: { server: Server; url: string; sign: (claims: JWTPayload) => Promise<string> } | undefined;
    beforeEach(async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
      const server = createHttpServer((_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const sign = (claims: JWTPayload) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'key-1' }).setExpirationTime('1h').sign(privateKey);
      jwks = { server, url, sign };
    });
    afterEach(async () => {
      jwks?.server.closeAllConnections();
      await new Promise((resolve) => jwks?.server.close(resolve));
    });

    /** withService runs `work` against a server whose JWTs are verified with `jwksUrl`. */
    async function withService(jwksUrl: string, work: (app: FastifyInstance) => Promise<void>): Promise<void> {
      const { store, cleanup } = await makeStore();
      const client = new Jobyard({ store, tasks: [sendEmail, noop], logger: silentLogger });
      const app = Fastify({ loggerInstance: silentLogger }) as unknown as FastifyInstance;
      app.register(jobyardService, { client, auth: { jwt: { jwksUrl, roleClaim: 'groups' } } });
      try {
        await app.ready();
        await work(app);
      } finally {
        await app.close();
        await client.close();
        await cleanup();
      }
    }

    it('verifies tokens with the keys of the key set, the role from a configured claim', async () => {
      assert.ok(jwks);
      const { sign } = jwks;
      await withService(jwks.url, async (app) => {
        const viewer = await sign({ sub: 'svc', groups: ['viewer'] });
        assert.equal((await inject(app, { method: 'GET', url: '/api/jobs', headers: bearer(viewer) })).status, 200);
        const forbidden = await inject(app, { method: 'POST', url: '/api/jobs', headers: bearer(viewer), payload: enqueueNoop });
        assertProblem(forbidden, 403, 'JOBYARD_FORBIDDEN');
        const noGroups = await sign({ sub: 'svc', role: 'admin' });
        assertProblem(await inject(app, { method: 'GET', url: '/api/jobs', headers: bearer(noGroups) }), 401);
      });
    });

    it('answers 503 when the key set cannot be fetched, and keeps health public', async () => {
      assert.ok(jwks);
      const token = await jwks.sign({ sub: 'svc', groups: 'admin' });
      const unreachable = await new Promise<string>((resolve) => {
        const server = createHttpServer();
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as AddressInfo;
          server.close(() => resolve(`http://127.0.0.1:${port}/jwks.json`));
        });
      });
      await withService(unreachable, async (app) => {
        assertProblem(
          await inject(app, { method: 'GET', url: '/api/jobs', headers: bearer(token) }),
          503,
          'JOBYARD_AUTH_UNAVAILABLE',
        );
        assert.equal((await inject(app, { method: 'GET', url: '/health', headers: bearer(token) })).status, 200);
      });
    });
  });

  describe('principal', () => {
    it('sets request.principal for the hooks that come after auth (rate limits, audit)', async () => {
      const { store, cleanup } = await makeStore();
      const client = new Jobyard({ store, tasks: [sendEmail, noop], logger: silentLogger });
      const host = Fastify({ loggerInstance: silentLogger }) as unknown as FastifyInstance;
      const seen: (Principal | null)[] = [];
      host.addHook('onResponse', async (request) => {
        seen.push(request.principal);
      });
      host.register(jobyardService, { client, auth: { devToken: ADMIN_TOKEN, jwt: { secret: JWT_SECRET } } });
      try {
        await host.ready();
        const { token, secret } = await createApiToken(store, { name: 'reader', role: 'viewer' });
        const jwt = await new SignJWT({ sub: 'user-7', name: 'Ada', role: 'operator' })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(JWT_SECRET));
        for (const headers of [bearer(ADMIN_TOKEN), bearer(secret), bearer(jwt), {}]) {
          await inject(host, { method: 'GET', url: '/api/queues', headers });
        }
        await inject(host, { method: 'GET', url: '/health' });
        assert.deepEqual(seen, [
          { id: 'dev', name: 'dev token', role: 'admin', via: 'dev-token' },
          { id: token.id, name: 'reader', role: 'viewer', via: 'api-key' },
          { id: 'user-7', name: 'Ada', role: 'operator', via: 'jwt' },
          null,
          null,
        ]);
      } finally {
        await host.close();
        await client.close();
        await cleanup();
      }
    });
  });

  describe('dev token and options', () => {
    const service = useService(makeStore);

    it('refuses a dev token when NODE_ENV=production, and says why', () => {
      const previous = process.env.NODE_ENV;
      process.env.NODE_ENV = 'production';
      try {
        assert.throws(
          () => resolveServiceOptions({ client: service.client(), auth: { devToken: ADMIN_TOKEN } }),
          (error: unknown) => error instanceof ValidationError && /NODE_ENV=production/.test(error.message),
        );
        // Without a dev token, production starts.
        assert.equal(resolveServiceOptions({ client: service.client() }).auth.enabled, true);
      } finally {
        if (previous === undefined) delete process.env.NODE_ENV;
        else process.env.NODE_ENV = previous;
      }
    });

    it('refuses invalid auth options with one ValidationError naming each', () => {
      const invalid = [
        [{ jwt: { secret: 'short' } }, 'auth.jwt.secret'],
        [{ jwt: { secret: JWT_SECRET, jwksUrl: 'https://issuer.test/jwks.json' } }, 'auth.jwt'],
        [{ jwt: {} }, 'auth.jwt'],
        [{ jwt: { jwksUrl: 'not a url' } }, 'auth.jwt.jwksUrl'],
        [{ jwt: { jwksUrl: 'file:///etc/jwks.json' } }, 'auth.jwt.jwksUrl'],
        [{ jwt: { secret: JWT_SECRET, issuer: '' } }, 'auth.jwt.issuer'],
        [{ devToken: '' }, 'auth.devToken'],
        [{ devToken: 'has space' }, 'auth.devToken'],
        [{ apiKeys: false }, 'auth'],
        ['yes', 'auth'],
      ] as const;
      for (const [auth, path] of invalid) {
        assert.throws(
          () => resolveServiceOptions({ client: service.client(), auth: auth as never }),
          (error: unknown) => error instanceof ValidationError && error.issues.some((issue) => issue.path === path),
          `${JSON.stringify(auth)} -> ${path}`,
        );
      }
    });
  });

  describe('auth: false', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const service = useService(makeStore, { auth: false, logger });

    it('lets every request act as an anonymous admin, and warns loudly at start-up', async () => {
      const warning = lines.map((line) => JSON.parse(line)).find((entry) => /AUTHENTICATION IS OFF/.test(entry.msg));
      assert.ok(warning, `a warning in ${lines.join('')}`);
      assert.equal(warning.level, 40);
      const headers = { authorization: '' };
      assert.equal((await service.call('GET', '/api/jobs', { headers })).status, 200);
      assert.equal((await service.call('POST', '/api/tokens', { headers, payload: { name: 'x', role: 'viewer' } })).status, 201);
      assert.equal((await service.call('GET', '/api/tokens', { headers: bearer('anything') })).status, 200);
      const document = (await service.call('GET', '/openapi.json')).body;
      assert.equal(document.components?.securitySchemes, undefined);
      assert.equal(document.paths['/api/jobs'].post.security, undefined);
    });
  });
}
