/** Cron schedules in UTC: parsing, matching, and the latest due time. */
import assert from "node:assert/strict";
import { dueSince, matches, parseSchedule } from "../../../src/database/backup/mod.ts";

const at = (iso: string) => new Date(iso);

Deno.test("parseSchedule() reads *, numbers, ranges, lists and steps, and names a bad field", () => {
  const s = parseSchedule("*/15 1-3,22 * * 1-5");
  assert.deepEqual([...s.sets[0]!], [0, 15, 30, 45]);
  assert.deepEqual([...s.sets[1]!], [1, 2, 3, 22]);
  assert.throws(() => parseSchedule("0 3 * *"), /has 4 fields, not 5/);
  assert.throws(() => parseSchedule("60 3 * * *"), /"60" is not a cron field from 0 to 59/);
  assert.throws(() => parseSchedule("0 3 * * mon"), /"mon" is not a cron field/);
  assert.throws(() => parseSchedule("*/0 3 * * *"), /not a cron field/);
});

Deno.test("matches() follows cron's day rule: both day fields restricted means either", () => {
  const daily = parseSchedule("0 3 * * *");
  assert.ok(matches(daily, at("2026-12-07T03:00:00Z")));
  assert.ok(!matches(daily, at("2026-12-07T03:01:00Z")));
  const either = parseSchedule("0 0 1 * 0"); // the 1st, and Sundays
  assert.ok(matches(either, at("2026-12-01T00:00:00Z"))); // a Tuesday
  assert.ok(matches(either, at("2026-12-06T00:00:00Z"))); // a Sunday
  assert.ok(!matches(either, at("2026-12-07T00:00:00Z")));
  assert.ok(matches(parseSchedule("0 0 * * 7"), at("2026-12-06T00:00:00Z")), "7 is Sunday");
});

Deno.test("dueSince() gives the latest scheduled minute after since, none before it", () => {
  const daily = parseSchedule("0 3 * * *");
  assert.deepEqual(
    dueSince(daily, at("2026-12-06T03:00:00Z"), at("2026-12-07T03:00:30Z")),
    at("2026-12-07T03:00:00Z"),
  );
  assert.equal(dueSince(daily, at("2026-12-07T03:00:00Z"), at("2026-12-07T10:00:00Z")), undefined);
  assert.deepEqual(
    dueSince(daily, at("2026-12-01T00:00:00Z"), at("2026-12-07T10:00:00Z")),
    at("2026-12-07T03:00:00Z"),
    "missed times collapse into the latest",
  );
});
