import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ScheduleNotFoundError, ValidationError, type ValidationIssue } from '../../errors/index.js';
import {
  describeTrigger,
  localTime,
  nextFireTimes,
  resolveTrigger,
  type ScheduleDefinition,
  type SchedulePatchInput,
  type Scheduler,
} from '../../scheduler/index.js';
import type { Schedule } from '../../types/index.js';
import { access, type RouteAccess } from '../access.js';
import { MAX_TIME, problemResponses } from '../schemas/common.js';
import { jobBody, NoContent } from '../schemas/job.js';
import {
  CreateScheduleBody,
  fireBody,
  HistoryQuery,
  Preview,
  PreviewBody,
  ScheduleHistory,
  ScheduleIdParams,
  ScheduleList,
  ScheduleRun,
  ScheduleSchema,
  scheduleBody,
  UpdateScheduleBody,
} from '../schemas/schedule.js';

/** scheduleRoute is the route options of a route that answers with one schedule. */
const scheduleRoute = (operationId: string, summary: string, config: { access: RouteAccess }) => ({
  config,
  schema: {
    tags: ['schedules'],
    operationId,
    summary,
    params: ScheduleIdParams,
    response: { 200: ScheduleSchema, ...problemResponses(400, 404) },
  },
});

/** scheduleRoutes serves the schedules of one scheduler under /api/schedules. */
export const scheduleRoutes: FastifyPluginAsyncZod<{ scheduler: Scheduler }> = async (app, { scheduler }) => {
  const mustGet = async (id: string): Promise<Schedule> => {
    const schedule = await scheduler.getSchedule(id);
    if (schedule === null) throw new ScheduleNotFoundError(id);
    return schedule;
  };

  app.get(
    '/api/schedules',
    {
      config: access('viewer', 'schedules.list', { mutates: false }),
      schema: {
        tags: ['schedules'],
        operationId: 'listSchedules',
        summary: 'List schedules by id, with next run and trigger description',
        response: { 200: ScheduleList },
      },
    },
    async () => ({ schedules: (await scheduler.listSchedules()).map(scheduleBody) }),
  );

  app.post(
    '/api/schedules',
    {
      config: access('admin', 'schedules.create'),
      schema: {
        tags: ['schedules'],
        operationId: 'createSchedule',
        summary: 'Create a schedule of a registered task',
        description:
          "The payload is validated by the task's schema. 409 when the id is taken; a schedule declared in the server's " +
          'code with the same id later replaces this definition when it differs (docs/scheduler.md).',
        body: CreateScheduleBody,
        response: { 201: ScheduleSchema, ...problemResponses(400, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { id, ...definition } = request.body;
      request.auditTarget = id;
      // Job metadata arrives as unknown JSON values; the scheduler checks them like any definition's.
      const schedule = await scheduler.createSchedule(id, definition as ScheduleDefinition);
      return reply
        .code(201)
        .header('location', `${request.routeOptions.url}/${encodeURIComponent(id)}`)
        .send(scheduleBody(schedule));
    },
  );

  app.patch(
    '/api/schedules/:id',
    {
      config: access('admin', 'schedules.update'),
      schema: {
        tags: ['schedules'],
        operationId: 'updateSchedule',
        summary: "Change a schedule's definition (any field but the task and the paused state)",
        description:
          'Fields left out keep their values; a changed trigger restarts from its first fire time after now. The change ' +
          "lasts until the server's code declares a different definition for the id.",
        params: ScheduleIdParams,
        body: UpdateScheduleBody,
        response: { 200: ScheduleSchema, ...problemResponses(400, 404, 413, 415, 422) },
      },
    },
    async (request) => scheduleBody(await scheduler.updateSchedule(request.params.id, request.body as SchedulePatchInput)),
  );

  app.delete(
    '/api/schedules/:id',
    {
      config: access('admin', 'schedules.delete'),
      schema: {
        tags: ['schedules'],
        operationId: 'deleteSchedule',
        summary: 'Delete a schedule and its history (its jobs stay)',
        description: "A schedule declared in the server's code comes back at its next start.",
        params: ScheduleIdParams,
        response: { 204: NoContent, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      if (!(await scheduler.removeSchedule(request.params.id))) throw new ScheduleNotFoundError(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/schedules/:id',
    scheduleRoute('getSchedule', 'Get a schedule', access('viewer', 'schedules.get', { mutates: false })),
    async (request) => scheduleBody(await mustGet(request.params.id)),
  );

  app.post(
    '/api/schedules/:id/pause',
    scheduleRoute('pauseSchedule', 'Pause a schedule: it stops firing', access('admin', 'schedules.pause')),
    async (request) => scheduleBody(await scheduler.pauseSchedule(request.params.id)),
  );

  app.post(
    '/api/schedules/:id/resume',
    scheduleRoute(
      'resumeSchedule',
      'Resume a schedule from its next fire time after now (fire times while paused are not made up)',
      access('admin', 'schedules.resume'),
    ),
    async (request) => scheduleBody(await scheduler.resumeSchedule(request.params.id)),
  );

  app.post(
    '/api/schedules/:id/run',
    {
      config: access('operator', 'schedules.run'),
      schema: {
        tags: ['schedules'],
        operationId: 'runSchedule',
        summary: 'Enqueue one job of the schedule now (within its max instances); its next run is unchanged',
        params: ScheduleIdParams,
        response: { 200: ScheduleRun, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { fire, job } = await scheduler.runScheduleNow(request.params.id);
      return { fire: fire && fireBody(fire), job: job && jobBody(job) };
    },
  );

  app.get(
    '/api/schedules/:id/history',
    {
      config: access('viewer', 'schedules.history', { mutates: false }),
      schema: {
        tags: ['schedules'],
        operationId: 'scheduleHistory',
        summary: "A schedule's fire times: enqueued (with the job id), missed or skipped (with why)",
        params: ScheduleIdParams,
        querystring: HistoryQuery,
        response: { 200: ScheduleHistory, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      await mustGet(request.params.id);
      const fires = await scheduler.scheduleHistory(request.params.id, { limit: request.query.limit });
      return { fires: fires.map(fireBody) };
    },
  );
};

/** previewRoute computes fire times of a trigger; it needs no scheduler, only the trigger maths. */
export const previewRoute: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/schedules/preview',
    {
      config: access('viewer', 'schedules.preview', { mutates: false }),
      schema: {
        tags: ['schedules'],
        operationId: 'previewSchedule',
        summary: 'The next fire times of a trigger in its time zone',
        body: PreviewBody,
        response: { 200: Preview, ...problemResponses(400, 413, 415) },
      },
    },
    async (request) => {
      const { count, from } = request.body;
      const issues: ValidationIssue[] = [];
      const trigger = resolveTrigger(request.body.trigger, 'trigger', issues);
      if (trigger === undefined) throw new ValidationError('Invalid trigger', issues);
      const zone = trigger.kind === 'cron' ? trigger.timezone : 'UTC';
      return {
        trigger,
        description: describeTrigger(trigger),
        fireTimes: nextFireTimes(trigger, from === undefined ? new Date() : new Date(from), count, new Date(MAX_TIME)).map(
          (at) => ({ at: at.toISOString(), local: localTime(at, zone) }),
        ),
      };
    },
  );
};
