import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { EventRecord } from '../types/index.js';

/**
 * Most records one batch holds. Past it records are dropped (and counted in a warning)
 * until the batch is sent: a database that cannot keep up must not grow memory without bound.
 */
const MAX_PENDING_EVENT_RECORDS = 20_000;

/**
 * EventPublisher hands a client's event records to the store (Store.eventPublish) for other
 * processes' event streams. Records gather for `intervalMs` and go out as one batch, one
 * batch at a time, so the jobs' own statements never wait for it and a busy worker costs
 * one publication per interval rather than one per job. Best effort: a failed batch is
 * logged and lost.
 */
export class EventPublisher {
  private pending: EventRecord[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private stopped = false;
  private readonly unwatch: () => void;

  /** The constructor starts publishing the records that `watch` reports (it returns the function that stops the watch). */
  constructor(
    private readonly store: Store,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    watch: (listener: (record: EventRecord) => void) => () => void,
  ) {
    this.unwatch = watch((record) => this.add(record));
  }

  private add(record: EventRecord): void {
    if (this.stopped) return;
    if (this.pending.length >= MAX_PENDING_EVENT_RECORDS) {
      this.dropped += 1;
      return;
    }
    this.pending.push(record);
    this.scheduleSend();
  }

  /** stop sends what is pending and resolves once every batch has been handed to the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sending;
    if (this.pending.length > 0) await this.send();
  }

  private scheduleSend(): void {
    if (this.timer || this.sending || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sending = this.send().finally(() => {
        this.sending = null;
        if (!this.stopped) this.scheduleSend();
      });
    }, this.intervalMs);
    // Pending records never keep a process alive; close() sends them.
    this.timer.unref();
  }

  private async send(): Promise<void> {
    const batch = this.pending;
    const dropped = this.dropped;
    this.pending = [];
    this.dropped = 0;
    if (dropped > 0) this.logger.warn({ dropped }, 'event records dropped: the store did not keep up');
    try {
      await this.store.eventPublish({ events: batch });
    } catch (error) {
      this.logger.warn({ err: error, lost: batch.length }, 'could not publish event records');
    }
  }
}
