import pg from 'pg';
import type { StoreNotification } from '../../store/index.js';
import { EVENT_TYPES, type EventRecord } from '../../types/index.js';
import { eventChannel, listen, listenEvents, notificationChannel, ping, unlistenEvents } from './sql.js';

/** NotificationListenerOptions configures a NotificationListener. */
export interface NotificationListenerOptions {
  /** How to open the dedicated connection (never a pooled one: LISTEN is per session). */
  clientConfig: pg.ClientConfig;
  schema: string;
  /** The tag of the listener's own store: notifications it sent are dropped (its subscribers had them already). */
  ownSource: string;
  onNotification(notification: StoreNotification): void;
  /** Called each time LISTEN is active again after a lost connection. */
  onReconnect(): void;
}

/**
 * eventPayloadPrefix starts every payload on the event channel: the sender's tag comes
 * first, so that a listener drops its own store's payloads without parsing them.
 */
export function eventPayloadPrefix(source: string): string {
  return `{"source":${JSON.stringify(source)},`;
}

const FIRST_RETRY_DELAY_MS = 50;
const MAX_RETRY_DELAY_MS = 2_000;
/** A silently dead link (no RST) is only noticed when something is sent on it. */
const HEARTBEAT_INTERVAL_MS = 15_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * NotificationListener holds one dedicated connection LISTENing on the schema's channel
 * and passes each notification on. When the connection fails or ends it reconnects with
 * exponential backoff (capped at 2 s) and LISTENs again. Notifications sent while it was
 * disconnected are lost, so callers are told through `onReconnect`.
 */
export class NotificationListener {
  /** Settles once the first connection attempt has finished, whether it worked or not. */
  readonly ready: Promise<void>;
  private readonly options: NotificationListenerOptions;
  private readonly channel: string;
  private readonly eventChannel: string;
  private readonly ownEventPrefix: string;
  private client: pg.Client | null = null;
  /** Whether the session should LISTEN on the event channel too (see listenEvents). */
  private eventsWanted = false;
  /** The latest LISTEN or UNLISTEN on the event channel, settled either way. */
  private eventsSwitch: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private listenedBefore = false;
  private stopped = false;
  private markReady: () => void = () => {};

  constructor(options: NotificationListenerOptions) {
    this.options = options;
    this.channel = notificationChannel(options.schema);
    this.eventChannel = eventChannel(options.schema);
    this.ownEventPrefix = eventPayloadPrefix(options.ownSource);
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  /** start opens the connection in the background. */
  start(): void {
    void this.connect();
  }

  /**
   * listenEvents starts or stops listening on the event channel (also after reconnects). A
   * failed LISTEN on a live session means the connection is failing: reconnecting LISTENs again.
   */
  listenEvents(wanted: boolean): void {
    if (wanted === this.eventsWanted) return;
    this.eventsWanted = wanted;
    const statement = wanted ? listenEvents(this.options.schema) : unlistenEvents(this.options.schema);
    if (this.client) {
      this.eventsSwitch = this.client.query(statement.text).then(
        () => {},
        () => {},
      );
    }
  }

  /** listening resolves once the first connection attempt and the latest change of listenEvents have settled. */
  async listening(): Promise<void> {
    await this.ready;
    await this.eventsSwitch;
  }

  /** stop closes the connection and cancels any pending reconnect. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.markReady();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.stopped) return;
    const client = new pg.Client({
      ...this.options.clientConfig,
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    this.client = client;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = null;
      client.end().catch(() => {});
      this.markReady();
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.dispatch(message.payload);
      else if (message.channel === this.eventChannel) this.dispatchEvents(message.payload);
    });
    try {
      await client.connect();
      await client.query(listen(this.options.schema).text);
      if (this.eventsWanted) await client.query(listenEvents(this.options.schema).text);
    } catch {
      onLost();
      return;
    }
    if (lost) return;
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.failures = 0;
    this.heartbeatTimer = setInterval(() => {
      client.query({ text: ping.text, query_timeout: HEARTBEAT_TIMEOUT_MS } as pg.QueryConfig).catch(onLost);
    }, HEARTBEAT_INTERVAL_MS);
    this.markReady();
    if (this.listenedBefore) this.options.onReconnect();
    this.listenedBefore = true;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** this.failures);
    this.failures += 1;
    // Jitter spreads the reconnects of many processes after a database restart.
    this.retryTimer = setTimeout(() => void this.connect(), delay * (0.5 + Math.random() / 2));
  }

  private dispatch(payload: string | undefined): void {
    let notification: unknown;
    try {
      notification = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (!isStoreNotification(notification)) return;
    if ((notification as { source?: unknown }).source === this.options.ownSource) return;
    this.options.onNotification(notification);
  }

  private dispatchEvents(payload: string | undefined): void {
    if (payload === undefined || payload.startsWith(this.ownEventPrefix)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return;
    }
    const events = (parsed as { events?: unknown } | null)?.events;
    if (!Array.isArray(events)) return;
    const valid = events.filter(isEventRecord);
    if (valid.length > 0) this.options.onNotification({ type: 'events', events: valid });
  }
}

function isEventRecord(value: unknown): value is EventRecord {
  if (typeof value !== 'object' || value === null) return false;
  const { type, at } = value as Record<string, unknown>;
  return EVENT_TYPES.includes(type as EventRecord['type']) && typeof at === 'string';
}

function isStoreNotification(value: unknown): value is StoreNotification {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    (candidate.type === 'jobs_available' && typeof candidate.queue === 'string') ||
    (candidate.type === 'cancel' && typeof candidate.jobId === 'string')
  );
}
