import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import { assertJobId, isName, LIMITS, OptionChecker, toJson, validateWithSchema } from '../../src/core/validation.js';
import { ValidationError, type ValidationIssue } from '../../src/errors/index.js';

function issuePaths(check: (checker: OptionChecker) => void): string[] {
  const checker = new OptionChecker();
  check(checker);
  return checker.issues.map((issue) => issue.path);
}

describe('assertJobId', () => {
  it('accepts UUIDs in either case', () => {
    const id = uuidv7();
    assert.doesNotThrow(() => assertJobId(id));
    assert.doesNotThrow(() => assertJobId(id.toUpperCase()));
  });

  it('rejects anything else with a ValidationError at path "id"', () => {
    for (const bad of ['', 'job-1', `${uuidv7()}x`, ` ${uuidv7()}`, uuidv7().replaceAll('-', ''), 42, null, undefined, {}]) {
      assert.throws(
        () => assertJobId(bad),
        (error: unknown) => error instanceof ValidationError && error.issues.length === 1 && error.issues[0]?.path === 'id',
        `should reject ${String(bad)}`,
      );
    }
  });
});

describe('isName', () => {
  it('accepts 1-128 letters, digits and _ . : - /', () => {
    for (const name of ['default', 'email.send', 'tenant:42/reports_v2-b', 'a'.repeat(128)])
      assert.equal(isName(name), true, name);
  });

  it('rejects empty, too long, spaces, other characters and non-strings', () => {
    for (const name of ['', 'a'.repeat(129), 'bad name', 'naïve', 'drop;table', 7, null])
      assert.equal(isName(name), false, String(name));
  });
});

describe('validateWithSchema', () => {
  const schema = z.object({ user: z.object({ email: z.string().email() }), count: z.number().int().default(1) });

  it("returns the schema's output (defaults applied)", async () => {
    assert.deepEqual(await validateWithSchema(schema, { user: { email: 'a@example.com' } }, 'payload'), {
      value: { user: { email: 'a@example.com' }, count: 1 },
    });
  });

  it('returns every issue with its dotted path under the prefix', async () => {
    const result = await validateWithSchema(schema, { user: { email: 'nope' }, count: 1.5 }, 'payloads.3');
    assert.ok('issues' in result);
    assert.deepEqual(result.issues.map((issue) => issue.path).sort(), ['payloads.3.count', 'payloads.3.user.email']);
    assert.ok(result.issues.every((issue) => issue.message.length > 0));
  });

  it('uses the bare prefix for a problem with the whole value', async () => {
    const result = await validateWithSchema(schema, 'not an object', 'payload');
    assert.ok('issues' in result);
    assert.deepEqual(
      result.issues.map((issue) => issue.path),
      ['payload'],
    );
  });
});

describe('toJson', () => {
  it('returns the value as it reads back from JSON', () => {
    const issues: ValidationIssue[] = [];
    const at = new Date('2025-01-02T03:04:05.000Z');
    assert.deepEqual(toJson({ at, list: [1, undefined], skip: undefined, nested: { ok: true } }, 'payload', issues), {
      at: '2025-01-02T03:04:05.000Z',
      list: [1, null],
      nested: { ok: true },
    });
    assert.equal(toJson(undefined, 'result', issues), null);
    assert.deepEqual(issues, []);
  });

  it('reports what JSON cannot hold, at the given path', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [{ n: Number.NaN }, { n: Number.POSITIVE_INFINITY }, { f: () => 1 }, { big: 1n }, cyclic]) {
      const issues: ValidationIssue[] = [];
      assert.equal(toJson(bad, 'payload', issues), null);
      assert.equal(issues.length, 1, JSON.stringify(Object.keys(bad)));
      assert.equal(issues[0]?.path, 'payload');
      assert.match(issues[0]?.message ?? '', /not JSON-serializable/);
    }
  });
});

describe('OptionChecker', () => {
  it('checks integers against their bounds, ignoring undefined', () => {
    const checker = new OptionChecker();
    assert.equal(checker.integer('a', 5, 1, 10), 5);
    assert.equal(checker.integer('b', undefined, 1, 10), undefined);
    assert.equal(checker.integer('c', 0, 1, 10), undefined);
    assert.equal(checker.integer('d', 11, 1, 10), undefined);
    assert.equal(checker.integer('e', 1.5, 1, 10), undefined);
    assert.equal(checker.integer('f', '5', 1, 10), undefined);
    assert.deepEqual(
      checker.issues.map((issue) => issue.path),
      ['c', 'd', 'e', 'f'],
    );
  });

  it('maps priority names and bounds numeric priorities', () => {
    const checker = new OptionChecker();
    assert.deepEqual(
      ['low', 'normal', 'high', 1000, -1000].map((value) => checker.priority('priority', value)),
      [-10, 0, 10, 1000, -1000],
    );
    assert.deepEqual(checker.issues, []);
    assert.equal(checker.priority('priority', 'urgent'), undefined);
    assert.equal(checker.priority('priority', LIMITS.priority + 1), undefined);
    assert.equal(checker.issues.length, 2);
  });

  it('checks names, keys, dates, tags and metadata', () => {
    assert.deepEqual(
      issuePaths((checker) => {
        checker.name('queue', 'bad queue');
        checker.name('ok-queue', 'mail');
        checker.key('dedupKey', '');
        checker.key('long', 'k'.repeat(LIMITS.keyLength + 1));
        checker.key('ok-key', 'order:1');
        checker.date('runAt', 'tomorrow');
        checker.date('ok-date', '2025-01-01T00:00:00Z');
        checker.tags('tags', ['a', '']);
        checker.tags(
          'many',
          Array.from({ length: LIMITS.tags + 1 }, (_, index) => `t${index}`),
        );
        checker.tags('ok-tags', ['a', 'b']);
        checker.metadata('metadata', ['a']);
        checker.metadata('null', null);
        checker.metadata('ok-metadata', { a: 1 });
      }),
      ['queue', 'dedupKey', 'long', 'runAt', 'tags', 'many', 'metadata', 'null'],
    );
  });

  it('returns the parsed date, deduplicated tags and JSON metadata', () => {
    const checker = new OptionChecker();
    assert.deepEqual(checker.date('runAt', '2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'));
    assert.deepEqual(checker.tags('tags', ['a', 'b', 'a']), ['a', 'b']);
    assert.deepEqual(checker.metadata('metadata', { at: new Date(0), skip: undefined }), { at: '1970-01-01T00:00:00.000Z' });
    assert.deepEqual(checker.issues, []);
  });

  it('checks backoff policies', () => {
    assert.deepEqual(
      issuePaths((checker) => {
        checker.backoff('ok', { type: 'exponential', baseMs: 10, maxMs: 100, jitter: 0.5 });
        checker.backoff('fn', () => 1);
        checker.backoff('fixed', { type: 'fixed', delayMs: -1 });
        checker.backoff('exp', { type: 'exponential', baseMs: 1.5, jitter: 2 });
        checker.backoff('kind', { type: 'linear' } as never);
      }),
      ['fixed.delayMs', 'exp.baseMs', 'exp.jitter', 'kind.type'],
    );
  });

  it('throws one ValidationError listing every problem, or nothing when there is none', () => {
    const checker = new OptionChecker();
    assert.doesNotThrow(() => checker.throwIfAny('Invalid options'));
    checker.integer('maxAttempts', 0, 1, 10);
    checker.name('queue', '');
    assert.throws(
      () => checker.throwIfAny('Invalid options'),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.code, 'JOBYARD_VALIDATION');
        assert.deepEqual(
          error.issues.map((issue) => issue.path),
          ['maxAttempts', 'queue'],
        );
        assert.match(error.message, /^Invalid options: maxAttempts: .*; queue: /);
        return true;
      },
    );
  });
});
