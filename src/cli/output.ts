import { UsageError } from './exit-codes.js';

/** print writes a command's result: as one JSON document with `--json`, else as the lines `human` makes of it. */
export function print<T>(json: boolean | undefined, value: T, human: (value: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human(value)}\n`);
}

/** table lays out rows in columns, the header first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** time writes a date for people (ISO 8601 UTC), or `-`. */
export function time(date: Date | null): string {
  return date === null ? '-' : date.toISOString();
}

/** parseInteger reads a whole-number flag or argument within bounds. */
export function parseInteger(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new UsageError(`${name} expects a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** parseDuration reads `500ms`, `30s`, `15m`, `12h`, `30d` (or plain milliseconds) as milliseconds. */
export function parseDuration(name: string): (text: string) => number {
  return (text) => {
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
    if (!match) throw new UsageError(`${name} expects a duration such as 30s, 15m, 12h or 30d, got ${JSON.stringify(text)}`);
    return Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1);
  };
}

/** parseJson reads a JSON flag. */
export function parseJson(name: string): (text: string) => unknown {
  return (text) => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${name} expects JSON: ${(error as Error).message}`);
    }
  };
}

/** parseList reads a comma-separated list. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
