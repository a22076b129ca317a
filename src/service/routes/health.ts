import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Store } from '../../store/index.js';
import { access } from '../access.js';

const Liveness = z.object({ status: z.literal('ok') });

const Readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  reasons: z.array(z.string()).describe('Why the service is not ready; empty when it is'),
  checks: z.array(
    z.object({
      name: z.string(),
      ok: z.boolean(),
      durationMs: z.number(),
      error: z.string().optional(),
    }),
  ),
});

/** healthRoutes answers liveness (the process serves HTTP) and readiness (its store answers). */
export const healthRoutes: FastifyPluginAsyncZod<{ store: Store; readyTimeoutMs: number }> = async (
  app,
  { store, readyTimeoutMs },
) => {
  app.get(
    '/health',
    {
      config: access('public', 'health.live', { mutates: false }),
      schema: {
        tags: ['health'],
        operationId: 'liveness',
        summary: 'Liveness: the process answers',
        response: { 200: Liveness },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: access('public', 'health.ready', { mutates: false }),
      schema: {
        tags: ['health'],
        operationId: 'readiness',
        summary: 'Readiness: the store answers a ping; 503 with the reasons when not',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const started = performance.now();
      let error: string | undefined;
      try {
        await withTimeout(store.ping(), readyTimeoutMs, `no answer within ${readyTimeoutMs} ms`);
      } catch (cause) {
        error = cause instanceof Error ? cause.message : String(cause);
      }
      const check = { name: 'store', ok: error === undefined, durationMs: Math.round(performance.now() - started) };
      const ready = error === undefined;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not ready',
        reasons: ready ? [] : [`store: ${error}`],
        checks: [ready ? check : { ...check, error }],
      });
    },
  );
};

/** withTimeout rejects with `message` when `promise` has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
