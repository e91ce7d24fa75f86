/**
 * The zod mirror of the CRD's `spec.backup` and `spec.restore` schemas (see `spec.ts`); the
 * patterns are the CRD's, character for character.
 *
 * @module
 */
import { z } from "zod";

/** An http(s) URL without user information, query or fragment. */
export const ENDPOINT_PATTERN = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$";
/** An S3 bucket name, as AWS allows it. */
export const BUCKET_PATTERN = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
/** A key prefix: segments of letters, digits, `.`, `_` and `-`, separated by single slashes. */
export const STORE_PATH_PATTERN = "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$";
/** A Secret name. */
export const SECRET_NAME_PATTERN =
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** Five cron fields: minute, hour, day of month, month, day of week. */
export const SCHEDULE_PATTERN = "^\\S+ \\S+ \\S+ \\S+ \\S+$";
/** A number of days, weeks or months, such as `30d`. */
export const RETENTION_PATTERN = "^[1-9][0-9]{0,3}[dwm]$";
/** Seconds, minutes or hours, such as `60s` or `5m`. */
export const DURATION_PATTERN = "^[1-9][0-9]{0,4}[smh]$";
/** An RFC 3339 time with a zone. */
export const TIME_PATTERN =
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$";

const pattern = (field: string, source: string, message: string) =>
  z.string().regex(new RegExp(source), `${field} must be ${message}`);

const objectStore = (field: string) =>
  z.strictObject({
    endpoint: pattern(`${field}.endpoint`, ENDPOINT_PATTERN, "an http or https URL")
      .max(2048, `${field}.endpoint must be at most 2048 characters`),
    bucket: pattern(`${field}.bucket`, BUCKET_PATTERN, "an S3 bucket name"),
    path: pattern(`${field}.path`, STORE_PATH_PATTERN, "a key prefix such as default/orders")
      .max(1024, `${field}.path must be at most 1024 characters`)
      .optional(),
    secret: pattern(`${field}.secret`, SECRET_NAME_PATTERN, "the name of a Secret")
      .max(253, `${field}.secret must be at most 253 characters`),
  });

/** `spec.backup`. */
export const backupSchema = z.strictObject({
  objectStore: objectStore("spec.backup.objectStore"),
  schedule: pattern("spec.backup.schedule", SCHEDULE_PATTERN, "five cron fields such as 0 3 * * *")
    .optional(),
  retention: pattern("spec.backup.retention", RETENTION_PATTERN, "days, weeks or months: 30d")
    .optional(),
  archiveTimeout: pattern("spec.backup.archiveTimeout", DURATION_PATTERN, "a duration: 60s")
    .optional(),
});

/** `spec.restore`. */
export const restoreSchema = z.strictObject({
  objectStore: objectStore("spec.restore.objectStore"),
  targetTime: pattern("spec.restore.targetTime", TIME_PATTERN, "an RFC 3339 time with a zone")
    .refine((time) => !Number.isNaN(Date.parse(time)), "spec.restore.targetTime is no valid time")
    .optional(),
});
