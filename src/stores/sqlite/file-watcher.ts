import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * DatabaseFileWatcher calls `onChange` when a connection may have committed to a SQLite
 * database: in WAL mode every commit appends to `<file>-wal`, and the operating system
 * reports it (inotify on Linux), so a worker in another process hears of new jobs within a
 * millisecond instead of at its next poll. It watches the folder, because the WAL file is
 * deleted when the last connection closes and created again by the next. Commits of this
 * process are reported too: a change is a hint to look, never proof of new jobs. The
 * `-shm` file is left out, since readers write to it and would wake every poll. Where the
 * folder cannot be watched, the watcher stays silent and workers keep polling.
 */
export class DatabaseFileWatcher {
  private watcher: FSWatcher | null = null;
  private reportPending = false;

  constructor(
    private readonly filename: string,
    private readonly onChange: () => void,
  ) {}

  start(): void {
    if (this.watcher) return;
    const path = resolve(this.filename);
    const watched = new Set([basename(path), `${basename(path)}-wal`]);
    try {
      // Not persistent: watching must never keep the process alive.
      this.watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || watched.has(String(name))) this.report();
      });
      this.watcher.on('error', () => this.stop());
    } catch {
      this.watcher = null;
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /** report calls onChange once per turn of the event loop, however many events a commit raised. */
  private report(): void {
    if (this.reportPending) return;
    this.reportPending = true;
    setImmediate(() => {
      this.reportPending = false;
      if (this.watcher) this.onChange();
    });
  }
}
