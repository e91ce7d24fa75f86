/**
 * The Database domain: names and types of the `database.example.com/v1` custom resource, the
 * zod mirror of its CRD schema, and a Kubernetes quantity parser.
 *
 * @module
 */

export {
  API_VERSION,
  type Condition,
  type Database,
  DATABASE_RESOURCE,
  type DatabaseEnvironment,
  type DatabasePhase,
  type DatabaseSpec,
  type DatabaseStatus,
  type DatabaseStorage,
  ENVIRONMENTS,
  FINALIZER,
  GROUP,
  type IntOrQuantity,
  KIND,
  LIST_KIND,
  PHASES,
  PLURAL,
  type ResourceRequirements,
  VERSION,
} from "./types.ts";
export { checkDatabaseName, MAX_NAME_LENGTH, NAME_PATTERN } from "./database_name.ts";
export {
  databaseSpecSchema,
  DEFAULT_IMAGE,
  DEFAULT_REPLICAS,
  DNS_SUBDOMAIN_PATTERN,
  IDENTIFIER_PATTERN,
  IMAGE_PATTERN,
  LARGE_STORAGE_SIZE,
  MAX_REPLICAS_WITHOUT_LARGE_STORAGE,
  MAX_RESOURCE_ENTRIES,
  MIN_STORAGE_SIZE,
  parseDatabaseSpec,
  type ParseDatabaseSpecResult,
  RESERVED_DATABASE_NAMES,
  RESERVED_USERNAMES,
  RESOURCE_NAMES,
  RESOURCE_QUANTITY_PATTERN,
  RULE_MESSAGES,
  SIZE_PATTERN,
} from "./spec.ts";
export { compareQuantities, isQuantity, parseQuantity, QuantityParseError } from "./quantity.ts";
