/**
 * Type tests: `npx tsc -p tsconfig.json --noEmit` checks this file. Each `@ts-expect-error`
 * line must fail to compile (tsc reports an unused directive otherwise), which proves that a
 * wrong payload is caught at `enqueue` and that payload and result types flow from the task.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineTask, type InputOf, type JobContext, type Jobyard, type PayloadOf, type ResultOf } from '../../src/core/index.js';
import { validateWithSchema } from '../../src/core/validation.js';

/** Same is true when A and B are assignable both ways; a `const x: Same<A, B> = true` fails to compile otherwise. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const signUp = defineTask('user.sign-up', {
  schema: z.object({ email: z.string().email(), plan: z.enum(['free', 'pro']).default('free') }),
  handler: async (payload, { job }) => {
    // The handler gets the schema's output: `plan` is filled in by its default.
    const plan: 'free' | 'pro' = payload.plan;
    const email: string = job.payload.email;
    // @ts-expect-error the schema declares no `referrer`
    payload.referrer;
    return { email, plan, welcomeSent: true };
  },
});

const resizeImage = defineTask('image.resize', {
  handler: async ({ file, width }: { file: string; width: number }) => ({ file, width, bytes: width * 10 }),
});

const typeFacts = {
  schemaPayload: true satisfies Same<PayloadOf<typeof signUp>, { email: string; plan: 'free' | 'pro' }>,
  schemaInput: true satisfies Same<InputOf<typeof signUp>, { email: string; plan?: 'free' | 'pro' | undefined }>,
  schemaResult: true satisfies Same<ResultOf<typeof signUp>, { email: string; plan: 'free' | 'pro'; welcomeSent: boolean }>,
  handlerPayload: true satisfies Same<PayloadOf<typeof resizeImage>, { file: string; width: number }>,
  handlerInput: true satisfies Same<InputOf<typeof resizeImage>, { file: string; width: number }>,
  handlerResult: true satisfies Same<ResultOf<typeof resizeImage>, { file: string; width: number; bytes: number }>,
};

/** Never called: these calls only have to compile, or fail to where marked. */
async function enqueueCalls(client: Jobyard): Promise<void> {
  await client.enqueue(signUp, { email: 'ada@example.com' });
  await client.enqueue(signUp, { email: 'ada@example.com', plan: 'pro' });
  // @ts-expect-error `plan` must be one of the schema's values
  await client.enqueue(signUp, { email: 'ada@example.com', plan: 'gold' });
  // @ts-expect-error `email` is required
  await client.enqueue(signUp, { plan: 'pro' });
  // @ts-expect-error `email` must be a string
  await client.enqueue(signUp, { email: 42 });

  await client.enqueue(resizeImage, { file: 'a.png', width: 100 });
  // @ts-expect-error `width` must be a number
  await client.enqueue(resizeImage, { file: 'a.png', width: '100' });
  // @ts-expect-error `file` is missing
  await client.enqueue(resizeImage, { width: 100 });
  // @ts-expect-error one wrong item fails the whole batch
  await client.enqueueMany(resizeImage, [{ file: 'a.png', width: 1 }, { file: 'b.png' }]);
  // By name there is no static payload type: the schema or store checks it at runtime.
  await client.enqueue('image.resize', { anything: true });

  const { job } = await client.enqueue(resizeImage, { file: 'a.png', width: 100 });
  const width: number = job.payload.width;
  const bytes: number | undefined = job.result?.bytes;
  // @ts-expect-error the result has no `pixels`
  job.result?.pixels;
  const signedUp = (await client.enqueue(signUp, { email: 'ada@example.com' })).job;
  // The stored job holds the schema's output.
  const plan: 'free' | 'pro' = signedUp.payload.plan;
  const stored = await client.getJob<typeof resizeImage>(job.id);
  const file: string | undefined = stored?.payload.file;
  // @ts-expect-error a typed job's payload is not `any`
  const wrong: boolean | undefined = stored?.payload.file;
  void [width, bytes, plan, file, wrong];
}

describe('task types', () => {
  it('hold the facts checked at compile time', () => {
    assert.deepEqual(Object.values(typeFacts), [true, true, true, true, true, true]);
    assert.equal(typeof enqueueCalls, 'function');
  });

  it('keep the name and handler; the handler returns its typed result', async () => {
    assert.equal(resizeImage.name, 'image.resize');
    const context = {} as JobContext<PayloadOf<typeof resizeImage>>;
    const result: ResultOf<typeof resizeImage> = await resizeImage.handler({ file: 'a.png', width: 3 }, context);
    assert.deepEqual(result, { file: 'a.png', width: 3, bytes: 30 });
  });

  it("turn the enqueue input into the handler's payload through the schema", async () => {
    assert.ok(signUp.schema);
    const input: InputOf<typeof signUp> = { email: 'ada@example.com' };
    assert.deepEqual(await validateWithSchema(signUp.schema, input, 'payload'), {
      value: { email: 'ada@example.com', plan: 'free' },
    });
  });
});
