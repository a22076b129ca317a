import type { Command } from 'commander';
import { JOB_STATUSES } from '../../types/index.js';
import { type GlobalOptions, withClient } from '../context.js';
import { print, table, time } from '../output.js';

/** registerQueues adds `queues ls|pause|resume`. */
export function registerQueues(program: Command): void {
  const queues = program.command('queues').description('Count jobs per queue; pause and resume queues');

  queues
    .command('ls')
    .description('Count jobs per queue and status, and show which queues are paused')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const stats = await withClient(options, ({ client }) => client.queueStats());
      print(options.json, stats, (all) =>
        table(
          ['QUEUE', 'STATE', ...JOB_STATUSES.map((status) => status.toUpperCase()), 'TOTAL'],
          all.map((queue) => [
            queue.queue,
            queue.paused ? `paused since ${time(queue.pausedAt)}` : 'active',
            ...JOB_STATUSES.map((status) => String(queue.counts[status])),
            String(queue.total),
          ]),
        ),
      );
    });

  const steps = [
    { name: 'pause', description: 'Pause a queue: no worker starts its jobs until it is resumed', apply: 'pauseQueue' },
    { name: 'resume', description: 'Resume a paused queue', apply: 'resumeQueue' },
  ] as const;
  for (const step of steps) {
    queues
      .command(step.name)
      .description(step.description)
      .argument('<queue>', 'queue name')
      .action(async (queue: string, _options, command: Command) => {
        const options = command.optsWithGlobals<GlobalOptions>();
        const state = await withClient(options, ({ client }) => client[step.apply](queue));
        print(options.json, state, ({ paused }) => `${queue} ${paused ? 'paused' : 'resumed'}`);
      });
  }
}
