/**
 * Database specs that the CRD (in the API server) and the zod mirror must both accept or both
 * reject, each rejection naming the same field.
 *
 * `field` is spelled as the API server reports it (`spec.storage.size`), so a cluster test can
 * check that the server's error message contains it. Each invalid spec breaks exactly one rule,
 * so that field is the only one either side can name.
 *
 * @module
 */

/** The course's `valid-db` spec, which the other cases vary. */
const base = {
  image: "postgres:17",
  replicas: 1,
  databaseName: "mydb",
  username: "admin",
  storage: { size: "10Gi" },
};

/** `base` without some of its top-level fields. */
function without(...keys: (keyof typeof base)[]): Record<string, unknown> {
  const spec: Record<string, unknown> = structuredClone(base);
  for (const key of keys) delete spec[key];
  return spec;
}

/** `base` with some top-level fields replaced. */
function withFields(fields: Record<string, unknown>): Record<string, unknown> {
  return { ...structuredClone(base), ...fields };
}

/** `base` with its storage replaced. */
function withStorage(storage: Record<string, unknown>): Record<string, unknown> {
  return withFields({ storage });
}

const STORE = {
  endpoint: "https://object-store.default.svc",
  bucket: "backups",
  secret: "object-store",
};

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

/** Specs both sides accept. Defaults (`image`, `replicas`) apply where they are left out. */
export const validSpecs: { name: string; spec: Record<string, unknown> }[] = [
  { name: "the course's valid-db", spec: base },
  { name: "only the required fields, so both defaults apply", spec: without("image", "replicas") },
  {
    name: "a versioned alpine image with a storage class",
    spec: withFields({
      image: "postgres:16.4-alpine",
      storage: { size: "20Gi", storageClass: "standard" },
    }),
  },
  {
    name: "an image pinned by digest",
    spec: withFields({ image: `docker.io/library/postgres@${DIGEST}` }),
  },
  {
    name: "a tagged and pinned image in a registry with a port",
    spec: withFields({ image: `localhost:5000/team/postgres:17@${DIGEST}` }),
  },
  {
    name: "a production database from another registry with resources",
    spec: withFields({
      image: "ghcr.io/cloudnative-pg/postgresql:17",
      replicas: 3,
      environment: "production",
      storage: { size: "100Gi", storageClass: "fast-ssd.example.com" },
      resources: {
        requests: { cpu: "500m", memory: "1Gi" },
        limits: { cpu: 2, memory: "2Gi" },
      },
    }),
  },
  {
    name: "3 replicas, one synchronous standby and a failover delay",
    spec: withFields({ replicas: 3, synchronousReplicas: 1, failoverDelay: 30 }),
  },
  {
    name: "5 replicas with 10Gi, the most without large storage",
    spec: withFields({ replicas: 5 }),
  },
  {
    name: "6 replicas with exactly 50Gi",
    spec: withFields({ replicas: 6, storage: { size: "50Gi" } }),
  },
  {
    name: "6 replicas with 50Gi written in plain bytes",
    spec: withFields({ replicas: 6, storage: { size: "53687091200" } }),
  },
  {
    name: "10 replicas with a size in exponent form",
    spec: withFields({ replicas: 10, storage: { size: "1e12" } }),
  },
  {
    name: "63-character identifiers with underscores and digits",
    spec: withFields({
      databaseName: "_" + "a1".repeat(31),
      username: "app_user_" + "x".repeat(54),
    }),
  },
  {
    name: "usernames that only resemble reserved ones",
    spec: withFields({ username: "postgres_admin", databaseName: "postgres_app" }),
  },
  { name: "a username pg without underscore", spec: withFields({ username: "pg" }) },
  { name: "exactly 64Mi of storage, the least", spec: withStorage({ size: "64Mi" }) },
  {
    name: "every known resource name, integers among them, requests equal to limits",
    spec: withFields({
      resources: {
        requests: { cpu: 1, memory: "1Gi", "ephemeral-storage": "1Gi", "hugepages-2Mi": "0" },
        limits: { cpu: "1000m", memory: "1Gi", "ephemeral-storage": "2Gi", "hugepages-2Mi": 0 },
      },
    }),
  },
  {
    name: "requests for a resource without a limit",
    spec: withFields({ resources: { requests: { cpu: "4" }, limits: { memory: "1Gi" } } }),
  },
  { name: "a development environment", spec: withFields({ environment: "development" }) },
  { name: "a staging environment", spec: withFields({ environment: "staging" }) },
  {
    name: "null optional fields, pruned before defaulting",
    spec: withFields({
      image: null,
      replicas: null,
      environment: null,
      resources: { limits: { cpu: null } },
      storage: { size: "1Gi", storageClass: null },
    }),
  },
  {
    name: "continuous backups with a schedule, a retention and an archive timeout",
    spec: withFields({
      backup: {
        objectStore: { ...STORE, path: "default/orders" },
        schedule: "0 3 * * *",
        retention: "30d",
        archiveTimeout: "5m",
      },
    }),
  },
  {
    name: "instances that must spread over zones",
    spec: withFields({
      replicas: 3,
      affinity: { podAntiAffinityType: "required", topologyKey: "topology.kubernetes.io/zone" },
    }),
  },
  {
    name: "instances that may share nodes",
    spec: withFields({ affinity: { enablePodAntiAffinity: false } }),
  },
  {
    name: "a restore to a point in time",
    spec: withFields({ restore: { objectStore: STORE, targetTime: "2026-12-05T16:00:00Z" } }),
  },
];

/** Specs both sides reject, each naming `field`. */
export const invalidSpecs: { name: string; spec: unknown; field: string }[] = [
  { name: "no spec", spec: undefined, field: "spec" },
  { name: "a spec that is a string", spec: "mydb", field: "spec" },
  { name: "no databaseName", spec: without("databaseName"), field: "spec.databaseName" },
  {
    name: "as many synchronous standbys as instances",
    spec: withFields({ replicas: 2, synchronousReplicas: 2 }),
    field: "spec.synchronousReplicas",
  },
  {
    name: "a synchronous standby with one instance",
    spec: withFields({ synchronousReplicas: 1 }),
    field: "spec.synchronousReplicas",
  },
  {
    name: "a negative failover delay",
    spec: withFields({ replicas: 2, failoverDelay: -1 }),
    field: "spec.failoverDelay",
  },
  { name: "no username", spec: without("username"), field: "spec.username" },
  { name: "no storage", spec: without("storage"), field: "spec.storage" },
  { name: "no storage size", spec: withStorage({}), field: "spec.storage.size" },
  {
    name: "a storage size given as a number",
    spec: withStorage({ size: 10 }),
    field: "spec.storage.size",
  },
  {
    name: "storage given as a string",
    spec: withFields({ storage: "10Gi" }),
    field: "spec.storage",
  },
  { name: "replicas 0", spec: withFields({ replicas: 0 }), field: "spec.replicas" },
  { name: "replicas 11", spec: withFields({ replicas: 11 }), field: "spec.replicas" },
  { name: "replicas 2.5", spec: withFields({ replicas: 2.5 }), field: "spec.replicas" },
  {
    name: "replicas given as a string",
    spec: withFields({ replicas: "3" }),
    field: "spec.replicas",
  },
  { name: "an image given as a number", spec: withFields({ image: 17 }), field: "spec.image" },
  { name: "an nginx image", spec: withFields({ image: "nginx:latest" }), field: "spec.image" },
  { name: "a mysql image", spec: withFields({ image: "mysql:8" }), field: "spec.image" },
  {
    name: "postgres only in the tag",
    spec: withFields({ image: "redis:postgres" }),
    field: "spec.image",
  },
  {
    name: "postgres only in the registry host",
    spec: withFields({ image: "postgres.example.com/nginx:1" }),
    field: "spec.image",
  },
  { name: "an empty image", spec: withFields({ image: "" }), field: "spec.image" },
  {
    name: "an image longer than 256 characters",
    spec: withFields({ image: `registry.example.com/${"a/".repeat(120)}postgres:17` }),
    field: "spec.image",
  },
  {
    name: "a size that is not a quantity",
    spec: withStorage({ size: "ten gigs" }),
    field: "spec.storage.size",
  },
  { name: "a zero size", spec: withStorage({ size: "0Gi" }), field: "spec.storage.size" },
  {
    name: "one byte short of 64Mi",
    spec: withStorage({ size: "67108863" }),
    field: "spec.storage.size",
  },
  { name: "a negative size", spec: withStorage({ size: "-10Gi" }), field: "spec.storage.size" },
  {
    name: "6 replicas with 10Gi",
    spec: withFields({ replicas: 6 }),
    field: "spec.storage.size",
  },
  {
    name: "7 replicas with one byte short of 50Gi",
    spec: withFields({ replicas: 7, storage: { size: "53687091199" } }),
    field: "spec.storage.size",
  },
  {
    name: "a storage class that is not a DNS subdomain",
    spec: withStorage({ size: "10Gi", storageClass: "Fast_SSD" }),
    field: "spec.storage.storageClass",
  },
  {
    name: "a 64-character databaseName",
    spec: withFields({ databaseName: "d".repeat(64) }),
    field: "spec.databaseName",
  },
  {
    name: "a databaseName with capitals and a dash",
    spec: withFields({ databaseName: "My-DB" }),
    field: "spec.databaseName",
  },
  {
    name: "a databaseName starting with a digit",
    spec: withFields({ databaseName: "1abc" }),
    field: "spec.databaseName",
  },
  {
    name: "an empty databaseName",
    spec: withFields({ databaseName: "" }),
    field: "spec.databaseName",
  },
  {
    name: "the username postgres",
    spec: withFields({ username: "postgres" }),
    field: "spec.username",
  },
  { name: "a pg_ username", spec: withFields({ username: "pg_monitor" }), field: "spec.username" },
  {
    name: "the databaseName postgres",
    spec: withFields({ databaseName: "postgres" }),
    field: "spec.databaseName",
  },
  {
    name: "the databaseName template0",
    spec: withFields({ databaseName: "template0" }),
    field: "spec.databaseName",
  },
  {
    name: "the databaseName template1",
    spec: withFields({ databaseName: "template1" }),
    field: "spec.databaseName",
  },
  { name: "the username public", spec: withFields({ username: "public" }), field: "spec.username" },
  {
    name: "the username current_user",
    spec: withFields({ username: "current_user" }),
    field: "spec.username",
  },
  {
    name: "a username with capitals",
    spec: withFields({ username: "Admin" }),
    field: "spec.username",
  },
  {
    name: "a 64-character username",
    spec: withFields({ username: "u".repeat(64) }),
    field: "spec.username",
  },
  {
    name: "an unknown environment",
    spec: withFields({ environment: "qa" }),
    field: "spec.environment",
  },
  {
    name: "a resource limit that is not a quantity",
    spec: withFields({ resources: { limits: { memory: "lots" } } }),
    field: "spec.resources.limits.memory",
  },
  {
    name: "a fractional number as a resource request",
    spec: withFields({ resources: { requests: { cpu: 0.5 } } }),
    field: "spec.resources.requests.cpu",
  },
  {
    name: "an unknown resource name",
    spec: withFields({ resources: { limits: { "nvidia.com/gpu": 1 } } }),
    field: "spec.resources.limits",
  },
  {
    name: "a misspelt resource name in requests",
    spec: withFields({ resources: { requests: { cpus: "1" } } }),
    field: "spec.resources.requests",
  },
  {
    name: "a negative quantity as a limit",
    spec: withFields({ resources: { limits: { memory: "-1Gi" } } }),
    field: "spec.resources.limits",
  },
  {
    name: "a negative integer as a request",
    spec: withFields({ resources: { requests: { cpu: -1 } } }),
    field: "spec.resources.requests",
  },
  {
    name: "a request above its limit",
    spec: withFields({ resources: { requests: { cpu: "1500m" }, limits: { cpu: 1 } } }),
    field: "spec.resources.requests",
  },
  {
    name: "nine resource limits",
    spec: withFields({
      resources: {
        limits: Object.fromEntries(
          ["1Mi", "2Mi", "4Mi", "8Mi", "16Mi", "32Mi", "64Mi", "1Gi", "2Gi"]
            .map((size) => [`hugepages-${size}`, "0"]),
        ),
      },
    }),
    field: "spec.resources.limits",
  },
  // The API server rejects unknown fields only under `fieldValidation=Strict` (kubectl's
  // default); with `Warn` or `Ignore` it prunes them and the object is accepted.
  {
    name: "an unknown field in spec",
    spec: withFields({ backupSchedule: "@daily" }),
    field: "spec.backupSchedule",
  },
  {
    name: "an unknown field in spec.storage",
    spec: withStorage({ size: "10Gi", class: "standard" }),
    field: "spec.storage.class",
  },
  {
    name: "an unknown anti-affinity type",
    spec: withFields({ affinity: { podAntiAffinityType: "always" } }),
    field: "spec.affinity.podAntiAffinityType",
  },
  {
    name: "a topology key with a space",
    spec: withFields({ affinity: { topologyKey: "my zone" } }),
    field: "spec.affinity.topologyKey",
  },
  {
    name: "a backup bucket with capitals",
    spec: withFields({ backup: { objectStore: { ...STORE, bucket: "Backups" } } }),
    field: "spec.backup.objectStore.bucket",
  },
  {
    name: "a backup without its store's Secret",
    spec: withFields({ backup: { objectStore: { endpoint: STORE.endpoint, bucket: "b12" } } }),
    field: "spec.backup.objectStore.secret",
  },
  {
    name: "a restore target that is not a time",
    spec: withFields({ restore: { objectStore: STORE, targetTime: "yesterday" } }),
    field: "spec.restore.targetTime",
  },
  {
    name: "an archive timeout in days",
    spec: withFields({ backup: { objectStore: STORE, archiveTimeout: "1d" } }),
    field: "spec.backup.archiveTimeout",
  },
];

/** Updates that only the CRD's transition rules (CEL `oldSelf`) reject. */
export const transitionCases: {
  name: string;
  oldSpec: Record<string, unknown>;
  newSpec: Record<string, unknown>;
  field: string;
}[] = [
  {
    name: "renaming the database",
    oldSpec: base,
    newSpec: withFields({ databaseName: "otherdb" }),
    field: "spec.databaseName",
  },
  {
    name: "changing the username",
    oldSpec: base,
    newSpec: withFields({ username: "other" }),
    field: "spec.username",
  },
  {
    name: "changing the storage class",
    oldSpec: withStorage({ size: "10Gi", storageClass: "standard" }),
    newSpec: withStorage({ size: "10Gi", storageClass: "fast-ssd" }),
    field: "spec.storage.storageClass",
  },
  {
    name: "setting a storage class that was left to the cluster default",
    oldSpec: base,
    newSpec: withStorage({ size: "10Gi", storageClass: "fast-ssd" }),
    field: "spec.storage.storageClass",
  },
  {
    name: "removing the storage class",
    oldSpec: withStorage({ size: "10Gi", storageClass: "standard" }),
    newSpec: base,
    field: "spec.storage.storageClass",
  },
  {
    name: "shrinking storage from 20Gi to 10Gi",
    oldSpec: withStorage({ size: "20Gi" }),
    newSpec: withStorage({ size: "10Gi" }),
    field: "spec.storage.size",
  },
];

/** Updates the transition rules allow. */
export const allowedTransitions: {
  name: string;
  oldSpec: Record<string, unknown>;
  newSpec: Record<string, unknown>;
}[] = [
  {
    name: "growing storage from 10Gi to 20Gi",
    oldSpec: base,
    newSpec: withStorage({ size: "20Gi" }),
  },
  {
    name: "rewriting 1Gi as 1024Mi",
    oldSpec: withStorage({ size: "1Gi" }),
    newSpec: withStorage({ size: "1024Mi" }),
  },
  {
    name: "scaling and changing the image",
    oldSpec: base,
    newSpec: withFields({ replicas: 3, image: "postgres:17.2" }),
  },
  {
    name: "growing storage while keeping its storage class",
    oldSpec: withStorage({ size: "10Gi", storageClass: "standard" }),
    newSpec: withStorage({ size: "20Gi", storageClass: "standard" }),
  },
  {
    name: "adding, changing and removing resources",
    oldSpec: withFields({ resources: { limits: { memory: "1Gi" } } }),
    newSpec: withFields({ resources: { requests: { cpu: "500m" } } }),
  },
];

/** `metadata.name`s the CRD refuses, each naming `metadata.name`, and why. */
export const invalidNames: { name: string; value: string }[] = [
  { name: "a name starting with a digit", value: "1st-db" },
  { name: "a name with a dot", value: "orders.eu" },
  { name: "a 53-character name", value: `db-${"x".repeat(50)}` },
  { name: "a 63-character name", value: `db-${"x".repeat(60)}` },
];

/** `metadata.name`s the CRD accepts. */
export const validNames: { name: string; value: string }[] = [
  { name: "the course's valid-db", value: "valid-db" },
  { name: "a one-letter name", value: "a" },
  { name: "a 52-character name, the longest", value: `db-${"x".repeat(49)}` },
];
