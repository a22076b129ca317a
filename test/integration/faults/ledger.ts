import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** LedgerRun is one run of a handler as the handler itself recorded it (times in ms since the epoch). */
export interface LedgerRun {
  jobId: string;
  attempt: number;
  pid: number;
  startedAt: number;
  /** Null while running, or when the process died during the run. */
  finishedAt: number | null;
}

/**
 * Ledger is the fault tests' own record of what ran, kept apart from the store under test:
 * a SQLite file shared by the test and its worker processes. Writes are synchronous, so a
 * run's start is durable before its handler goes on, and a fault of the store's database
 * (a PostgreSQL restart) cannot touch the ledger.
 */
export class Ledger {
  private readonly db: Database.Database;
  private readonly insertRun: Database.Statement<[string, number, number, number], unknown>;
  private readonly finishRun: Database.Statement<[number, number], unknown>;

  constructor(readonly filename: string) {
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    // Several worker processes write at once; WAL commits survive a SIGKILL (not a power cut).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS runs (
      id INTEGER PRIMARY KEY,
      job_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      pid INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      finished_at INTEGER
    )`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS step_events (
      id INTEGER PRIMARY KEY,
      job_id TEXT NOT NULL,
      step TEXT NOT NULL,
      event TEXT NOT NULL CHECK (event IN ('started', 'finished'))
    )`);
    this.insertRun = this.db.prepare('INSERT INTO runs (job_id, attempt, pid, started_at) VALUES (?, ?, ?, ?)');
    this.finishRun = this.db.prepare('UPDATE runs SET finished_at = ? WHERE id = ?');
  }

  /** recordStart notes that this process starts an attempt of a job and returns the run's id. */
  recordStart(jobId: string, attempt: number): number {
    return Number(this.insertRun.run(jobId, attempt, process.pid, Date.now()).lastInsertRowid);
  }

  /** recordFinish notes that the run ended. */
  recordFinish(runId: number): void {
    this.finishRun.run(Date.now(), runId);
  }

  runs(): LedgerRun[] {
    return this.db
      .prepare('SELECT job_id AS jobId, attempt, pid, started_at AS startedAt, finished_at AS finishedAt FROM runs ORDER BY id')
      .all() as LedgerRun[];
  }

  /** count tells how many runs the process `pid` (any process when omitted) started, and how many of them finished. */
  count(pid?: number): { started: number; finished: number } {
    const row = this.db
      .prepare('SELECT count(*) AS started, count(finished_at) AS finished FROM runs WHERE ? IS NULL OR pid = ?')
      .get(pid ?? null, pid ?? null) as { started: number; finished: number };
    return row;
  }

  /** recordStep notes that a durable step of a job started or finished its work in this process. */
  recordStep(jobId: string, step: string, event: 'started' | 'finished'): void {
    this.db.prepare('INSERT INTO step_events (job_id, step, event) VALUES (?, ?, ?)').run(jobId, step, event);
  }

  /** stepCounts tells, per step of a job, how often its work started and finished. */
  stepCounts(jobId: string): Record<string, { started: number; finished: number }> {
    const rows = this.db
      .prepare(
        `SELECT step, sum(event = 'started') AS started, sum(event = 'finished') AS finished
         FROM step_events WHERE job_id = ? GROUP BY step ORDER BY step`,
      )
      .all(jobId) as { step: string; started: number; finished: number }[];
    return Object.fromEntries(rows.map(({ step, started, finished }) => [step, { started, finished }]));
  }

  close(): void {
    this.db.close();
  }
}

/** tempLedger creates a ledger file under the OS temp folder; cleanup closes it and removes its files. */
export function tempLedger(): { ledger: Ledger; cleanup: () => Promise<void> } {
  const filename = join(tmpdir(), `jobyard-ledger-${randomUUID()}.db`);
  const ledger = new Ledger(filename);
  const cleanup = async () => {
    ledger.close();
    await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${filename}${suffix}`, { force: true })));
  };
  return { ledger, cleanup };
}
