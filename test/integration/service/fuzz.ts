import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { ADMIN_TOKEN, type MakeStore, useService } from './fixtures.js';

/** How many malformed requests one run sends; FUZZ_REQUESTS raises it for a longer hunt. */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2000);
/** The seed of the run; a failure prints it, and FUZZ_SEED replays that run. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_123);

/** mulberry32 is a small seeded PRNG: the same seed sends the same requests. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** encode percent-encodes text for a URL; lone surrogates, which no URL can carry, become U+FFFD first. */
function encode(text: string): string {
  return encodeURIComponent(text.replace(/\p{Cs}/gu, '\ufffd'));
}

/** Generator draws random but reproducible pieces of HTTP requests, most of them wrong on purpose. */
class Generator {
  constructor(private readonly random: () => number) {}

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  text(): string {
    return this.pick([
      () => '',
      () => 'x'.repeat(this.int(600)),
      () => String.fromCharCode(...Array.from({ length: this.int(20) }, () => this.int(0xffff))),
      () => 'a\u0000b',
      () => '\ud800',
      () => '😀',
      () => '../../etc/passwd',
      () => "'; DROP TABLE jobyard_jobs; --",
      () => '%00%ff%',
      () => '{"task":"noop"}',
      () => 'email.send',
      () => '2026-01-01T00:00:00Z',
      () => '9999-99-99T99:99:99Z',
      () => String(this.int(1e9)),
    ])();
  }

  json(depth = 0): unknown {
    const kinds = depth > 3 ? 6 : 8;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 1000, 1001, -1000]);
      case 3:
      case 4:
        return this.text();
      case 5:
        return this.pick(['low', 'normal', 'high', 'available', 'cancelled', 'cron', 'every', 'at']);
      case 6:
        return Array.from({ length: this.int(4) }, () => this.json(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: this.int(5) }, (): [string, unknown] => [
            this.pick([...FIELDS, this.text()]),
            this.json(depth + 1),
          ]),
        );
    }
  }

  /** enqueueBody is a plausible enqueue request with up to two fields made wrong. */
  enqueueBody(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      task: this.pick(['email.send', 'noop', 'unknown.task']),
      payload: this.pick([{ to: 'ada@example.com' }, { to: 42 }, null, [1, 2]]),
    };
    for (let index = 0; index < this.int(3); index += 1) body[this.pick(FIELDS)] = this.json();
    return body;
  }

  triggerBody(): Record<string, unknown> {
    const trigger = this.pick([
      { kind: 'cron', expression: this.pick(['* * * * *', '0 2 * * *', '61 * * * *', '* * *', '@daily']), timezone: this.text() },
      { kind: 'every', everyMs: this.json(), startAt: this.text() },
      { kind: 'at', at: this.text() },
      this.json(),
    ]);
    return { trigger, count: this.pick([1, 5, 100, 101, 0, -1, 'five', null]), from: this.pick([undefined, this.text()]) };
  }

  id(): string {
    return this.pick([
      () => '01890000-0000-7000-8000-000000000000',
      () => 'nightly',
      () => encode(this.text()).slice(0, 300),
      () => '%00',
      () => '%E0%A4%A',
      () => '..',
      () => 'a'.repeat(this.pick([128, 129, 5000])),
    ])();
  }

  query(): string {
    const pairs = Array.from({ length: this.int(4) }, () => {
      const key = this.pick([...QUERY_KEYS, this.text()]);
      const value = this.pick([() => this.text(), () => JSON.stringify(this.json()), () => String(this.int(1000) - 10)])();
      return `${encode(key)}=${encode(value)}`;
    });
    if (this.chance(0.1)) pairs.push('%', '&&', 'limit=1&limit=2');
    return pairs.length > 0 ? `?${pairs.join('&')}` : '';
  }

  request(): InjectOptions {
    const id = this.id();
    // Mostly a route's own method, so that requests get past routing to validation and handlers.
    const [ownMethod, url] = this.pick<() => [string, string]>([
      () => ['GET', '/api/jobs'],
      () => ['POST', '/api/jobs'],
      () => ['POST', '/api/jobs'],
      () => ['GET', `/api/jobs/${id}`],
      () => ['POST', `/api/jobs/${id}/${this.pick(['cancel', 'retry', 'delete', ''])}`],
      () => ['GET', '/api/queues'],
      () => ['GET', '/api/schedules'],
      () => ['GET', `/api/schedules/${id}`],
      () => ['POST', `/api/schedules/${id}/${this.pick(['pause', 'resume', 'run'])}`],
      () => ['GET', `/api/schedules/${id}/history`],
      () => ['POST', '/api/schedules/preview'],
      () => ['POST', '/api/schedules/preview'],
      () => ['GET', '/api/tokens'],
      () => ['POST', '/api/tokens'],
      () => ['DELETE', `/api/tokens/${id}`],
      () => [
        'GET',
        this.pick(['/health', '/health/ready', '/openapi.json', '/docs/', '/docs/static/../../package.json', '/', '//api//jobs']),
      ],
      () => ['GET', `/${encode(this.text()).slice(0, 200)}`],
    ])();
    const method = this.chance(0.75) ? ownMethod : this.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    // Mostly an admin, so that requests get past auth; otherwise a wrong or odd Authorization.
    const headers: Record<string, string> = {
      authorization: this.chance(0.85)
        ? `Bearer ${ADMIN_TOKEN}`
        : this.pick([
            '',
            'Bearer',
            'Bearer ',
            'bearer  x',
            'Basic dXNlcjpwYXNz',
            `Bearer ${ADMIN_TOKEN} extra`,
            `Bearer jy_${'A'.repeat(43)}`,
            'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
            'Bearer a.b.c',
            `Bearer ${'x'.repeat(10_000)}`,
            `Bearer ${this.text()}`.replace(/[^\x20-\x7e]/g, '?'),
          ]),
    };
    if (this.chance(0.2)) headers['idempotency-key'] = this.pick(['k', 'key-1', 'x'.repeat(600), '']);
    if (this.chance(0.1)) headers.accept = this.pick(['application/xml', '*/*', 'text/html', '']);
    const request: InjectOptions = { method: method as InjectOptions['method'], url: `${url}${this.query()}`, headers };
    if (method === 'GET' || method === 'HEAD' || this.chance(0.1)) return request;
    // The routes that read a body get a plausible one more often than not.
    const plausible = {
      '/api/jobs': () => this.enqueueBody(),
      '/api/schedules/preview': () => this.triggerBody(),
      '/api/tokens': () => ({ name: this.pick(['ci', 'has space', '', this.text()]), role: this.json() }),
    }[url];
    if (plausible && this.chance(0.6)) {
      headers['content-type'] = 'application/json';
      return { ...request, payload: JSON.stringify(plausible()) };
    }
    const body = this.pick([
      () => JSON.stringify(this.enqueueBody()),
      () => JSON.stringify(this.triggerBody()),
      () => JSON.stringify(this.json()),
      () => this.text(),
      () => '{"task": "noop", "payload": ',
      () => '{"__proto__": {"polluted": true}}',
      () => '',
      () => JSON.stringify({ task: 'noop', payload: 'x'.repeat(this.pick([10, 2_000_000])) }),
    ])();
    headers['content-type'] = this.pick([
      'application/json',
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/problem+json',
      'garbage',
    ]);
    if (this.chance(0.05)) headers['content-length'] = String(this.int(10));
    return { ...request, payload: body };
  }
}

const FIELDS = [
  'task',
  'payload',
  'queue',
  'priority',
  'runAt',
  'delayMs',
  'dedupKey',
  'concurrencyKey',
  'concurrencyLimit',
  'maxAttempts',
  'timeoutMs',
  'metadata',
  'tags',
  'trigger',
  'count',
  'from',
] as const;

const QUERY_KEYS = ['queue', 'task', 'status', 'tag', 'dedupKey', 'metadata', 'cursor', 'limit'] as const;

/**
 * fuzzSuite sends thousands of malformed requests (random bodies, wrong types, bad ids, odd
 * headers and media types) and requires that none is answered 5xx, that every error is
 * problem JSON, and that the service is still healthy afterwards.
 */
export function fuzzSuite(makeStore: MakeStore): void {
  const service = useService(makeStore);

  it(`answers ${REQUESTS} malformed requests without a 5xx and stays healthy (seed ${SEED})`, async (t) => {
    await service.scheduler().schedule('nightly', { task: 'noop', trigger: { kind: 'cron', expression: '0 2 * * *' } });
    const generate = new Generator(mulberry32(SEED));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let index = 0; index < REQUESTS; index += 1) {
      const request = generate.request();
      const response = await service.app().inject(request);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const type = String(response.headers['content-type'] ?? '');
      const problemJson = type.startsWith('application/problem+json');
      const wrong =
        response.statusCode >= 500
          ? `answered ${response.statusCode}`
          : response.statusCode >= 400 && request.method !== 'HEAD' && !problemJson
            ? `answered ${response.statusCode} with ${type || 'no content type'}`
            : null;
      if (wrong) {
        failures.push(
          `#${index} ${request.method} ${String(request.url).slice(0, 120)} ${wrong}: ${response.body.slice(0, 300)}`,
        );
      }
    }
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    assert.deepEqual(failures.slice(0, 10), [], `seed ${SEED}, statuses ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(400) ?? 0) > REQUESTS / 10, `mostly rejected input expected, got ${JSON.stringify([...statuses])}`);
    const live = await service.app().inject({ method: 'GET', url: '/health' });
    assert.equal(live.statusCode, 200);
    const ready = await service.app().inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
  });
}
