/**
 * `spec.backup.schedule`: five cron fields in UTC (minute, hour, day of month, month, day of
 * week), each `*`, a number, a range `a-b`, a list `a,b`, and a step `x/n`, with cron's rule that
 * when both day fields are restricted a day matching either one counts. Pure: the archive step
 * asks {@linkcode dueSince} at every check and creates a Backup when a time has come.
 *
 * @module
 */

interface Field {
  min: number;
  max: number;
}

const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12 },
  { min: 0, max: 7 },
];

/** A parsed schedule: the allowed values of each field, and which day fields are restricted. */
export interface Schedule {
  sets: Set<number>[];
  domRestricted: boolean;
  dowRestricted: boolean;
}

/** Parses `text`; throws an Error naming the field that is wrong. */
export function parseSchedule(text: string): Schedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`"${text}" has ${parts.length} fields, not 5`);
  const sets = parts.map((part, i) => parseField(part, FIELDS[i]!));
  // Sunday is 0 or 7.
  if (sets[4]!.has(7)) sets[4]!.add(0);
  return { sets, domRestricted: parts[2] !== "*", dowRestricted: parts[4] !== "*" };
}

function parseField(part: string, { min, max }: Field): Set<number> {
  const values = new Set<number>();
  for (const item of part.split(",")) {
    const [range, stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const bounds = range === "*" ? [min, max] : range!.split("-").map(Number);
    const from = bounds[0]!;
    const to = bounds[1] ?? (stepText === undefined ? from : max);
    if (
      bounds.length > 2 || !Number.isInteger(from) || !Number.isInteger(to) ||
      !Number.isInteger(step) || step < 1 || from < min || to > max || from > to
    ) {
      throw new Error(`"${part}" is not a cron field from ${min} to ${max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** Whether the minute starting at `time` (UTC) is one of `schedule`'s. */
export function matches(schedule: Schedule, time: Date): boolean {
  const [minute, hour, dom, month, dow] = schedule.sets;
  if (!minute!.has(time.getUTCMinutes()) || !hour!.has(time.getUTCHours())) return false;
  if (!month!.has(time.getUTCMonth() + 1)) return false;
  const domOk = dom!.has(time.getUTCDate());
  const dowOk = dow!.has(time.getUTCDay());
  if (schedule.domRestricted && schedule.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/**
 * The latest scheduled minute after `since` and at most `now`, or undefined when none came.
 * Looks back at most `limitMinutes` (a year by default) from `now`.
 */
export function dueSince(
  schedule: Schedule,
  since: Date,
  now: Date,
  limitMinutes = 366 * 24 * 60,
): Date | undefined {
  const start = Math.floor(now.getTime() / 60_000) * 60_000;
  const floor = Math.max(since.getTime(), start - limitMinutes * 60_000);
  for (let t = start; t > floor; t -= 60_000) {
    if (matches(schedule, new Date(t))) return new Date(t);
  }
  return undefined;
}
