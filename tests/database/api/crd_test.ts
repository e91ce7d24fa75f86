import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  API_VERSION,
  DEFAULT_IMAGE,
  DEFAULT_REPLICAS,
  DNS_SUBDOMAIN_PATTERN,
  ENVIRONMENTS,
  GROUP,
  IDENTIFIER_PATTERN,
  IMAGE_PATTERN,
  KIND,
  LIST_KIND,
  MAX_NAME_LENGTH,
  MAX_RESOURCE_ENTRIES,
  MIN_STORAGE_SIZE,
  NAME_PATTERN,
  parseDatabaseSpec,
  PHASES,
  PLURAL,
  RESERVED_DATABASE_NAMES,
  RESOURCE_NAMES,
  RESOURCE_QUANTITY_PATTERN,
  RULE_MESSAGES,
  SIZE_PATTERN,
  VERSION,
} from "../../../src/database/mod.ts";

// deno-lint-ignore no-explicit-any
type Yaml = any;

const MANIFESTS = new URL("../../../manifests/", import.meta.url);
const CRD_FILE = "crd/bases/database.example.com_databases.yaml";

function readYaml(path: string): Yaml {
  return parse(Deno.readTextFileSync(new URL(path, MANIFESTS)));
}

const crd: Yaml = readYaml(CRD_FILE);
const version: Yaml = crd.spec.versions[0];
const root: Yaml = version.schema.openAPIV3Schema;
const spec: Yaml = root.properties.spec;
const status: Yaml = root.properties.status;

interface Rule {
  /** Where the rule sits, as `spec.storage.size`. */
  at: string;
  rule: string;
  message?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** Calls `visit` on every schema node below `node`, with its dotted path. */
function walk(node: Yaml, path: string, visit: (node: Yaml, path: string) => void): void {
  visit(node, path);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    walk(child, path ? `${path}.${key}` : key, visit);
  }
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === "object") {
    walk(node.additionalProperties, `${path}.*`, visit);
  }
}

function celRules(): Rule[] {
  const rules: Rule[] = [];
  walk(root, "", (node, at) => {
    for (const rule of node["x-kubernetes-validations"] ?? []) rules.push({ at, ...rule });
  });
  return rules;
}

Deno.test("the CRD names Database in database.example.com, namespaced, with short name db", () => {
  assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
  assert.equal(crd.kind, "CustomResourceDefinition");
  assert.equal(crd.metadata.name, `${PLURAL}.${GROUP}`);
  assert.equal(crd.spec.group, GROUP);
  assert.equal(crd.spec.scope, "Namespaced");
  assert.deepEqual(crd.spec.names, {
    kind: KIND,
    listKind: LIST_KIND,
    plural: PLURAL,
    singular: "database",
    shortNames: ["db"],
  });
  assert.equal(API_VERSION, `${GROUP}/${VERSION}`);
});

Deno.test("the CRD serves and stores only v1, with a status subresource", () => {
  assert.equal(crd.spec.versions.length, 1);
  assert.equal(version.name, VERSION);
  assert.equal(version.served, true);
  assert.equal(version.storage, true);
  assert.deepEqual(version.subresources, { status: {} });
});

Deno.test("the CRD prints Phase, Ready, Reason, Replicas, Primary, Environment and Age columns", () => {
  assert.deepEqual(
    version.additionalPrinterColumns.map((c: Yaml) => [c.name, c.type, c.jsonPath]),
    [
      ["Phase", "string", ".status.phase"],
      ["Ready", "boolean", ".status.ready"],
      ["Reason", "string", '.status.conditions[?(@.type=="Ready")].reason'],
      ["Replicas", "integer", ".spec.replicas"],
      ["Primary", "string", ".status.currentPrimary"],
      ["Environment", "string", ".spec.environment"],
      ["Age", "date", ".metadata.creationTimestamp"],
    ],
  );
});

Deno.test("the CRD schema requires spec, its databaseName, username and storage, and storage.size", () => {
  assert.equal(root.type, "object");
  assert.deepEqual(root.required, ["spec"]);
  assert.deepEqual([...spec.required].sort(), ["databaseName", "storage", "username"]);
  assert.deepEqual(spec.properties.storage.required, ["size"]);
  assert.deepEqual(Object.keys(spec.properties).sort(), [
    "affinity",
    "backup",
    "databaseName",
    "environment",
    "failoverDelay",
    "image",
    "replicas",
    "resources",
    "restore",
    "storage",
    "synchronousReplicas",
    "username",
  ]);
});

Deno.test("the CRD schema is structural and preserves no unknown fields", () => {
  walk(root, "", (node, path) => {
    assert.equal(node["x-kubernetes-preserve-unknown-fields"], undefined, path);
    if (node["x-kubernetes-int-or-string"]) {
      assert.equal(node.type, undefined, path);
      assert.deepEqual(node.anyOf, [{ type: "integer" }, { type: "string" }], path);
    } else {
      assert.ok(typeof node.type === "string", `${path || "root"} has no type`);
    }
  });
});

Deno.test("the CRD defaults image and replicas and bounds replicas like the zod schema", () => {
  assert.equal(spec.properties.image.default, DEFAULT_IMAGE);
  assert.equal(spec.properties.replicas.default, DEFAULT_REPLICAS);
  assert.equal(spec.properties.replicas.type, "integer");
  assert.equal(spec.properties.replicas.minimum, 1);
  assert.equal(spec.properties.replicas.maximum, 10);
  assert.deepEqual(spec.properties.environment.enum, [...ENVIRONMENTS]);
  assert.deepEqual(status.properties.phase.enum, [...PHASES]);
});

Deno.test("the CRD's patterns and lengths are the ones the zod schema uses", () => {
  const p = spec.properties;
  for (const name of ["databaseName", "username"]) {
    assert.equal(p[name].pattern, IDENTIFIER_PATTERN, name);
    assert.equal(p[name].maxLength, 63, name);
  }
  assert.equal(p.image.maxLength, 256);
  assert.equal(p.storage.properties.size.pattern, SIZE_PATTERN);
  assert.equal(p.storage.properties.size.maxLength, 64);
  assert.equal(p.storage.properties.storageClass.pattern, DNS_SUBDOMAIN_PATTERN);
  assert.equal(p.storage.properties.storageClass.maxLength, 253);
  for (const list of ["limits", "requests"]) {
    const value = p.resources.properties[list].additionalProperties;
    assert.equal(value.pattern, RESOURCE_QUANTITY_PATTERN, list);
    assert.equal(value["x-kubernetes-int-or-string"], true, list);
    assert.equal(value.maxLength, 64, list);
    assert.equal(p.resources.properties[list].maxProperties, MAX_RESOURCE_ENTRIES, list);
    const names = celRules().find((r) => r.at === `spec.resources.${list}`)?.rule ?? "";
    for (const name of RESOURCE_NAMES) assert.ok(names.includes(`'${name}'`), name);
    assert.ok(names.includes("name.startsWith('hugepages-')"), names);
  }
  const imageRules = celRules().filter((r) => r.at === "spec.image");
  assert.deepEqual(imageRules.map((r) => r.rule), [
    `self.matches('${IMAGE_PATTERN}')`,
    IMAGE_MAJOR_VERSION_RULE,
  ]);
  assert.ok(!IMAGE_PATTERN.includes("\\") && !IMAGE_PATTERN.includes("'"));
});

Deno.test("every CEL rule has a message that names its field as spec.<path> or metadata.name", () => {
  const rules = celRules();
  assert.ok(rules.length >= 16);
  for (const { at, rule, message, fieldPath } of rules) {
    assert.ok(message, `${at}: ${rule} has no message`);
    assert.ok(message.startsWith("spec.") || message.startsWith("metadata.name "), message);
    const field = fieldPath ? `${at}${fieldPath}`.replace(/^[.]/, "") : at;
    assert.ok(message.startsWith(`${field} `), `${message} does not start with ${field}`);
  }
});

Deno.test("the CRD refuses names that cannot become a Service or get StatefulSet pods", () => {
  const rules = celRules().filter((r) => r.at === "");
  // Checked on create only (names are immutable), so older objects stay writable.
  assert.deepEqual(rules.map((r) => [r.rule, r.optionalOldSelf, r.fieldPath, r.message]), [
    [
      `oldSelf.hasValue() || self.metadata.name.matches('${NAME_PATTERN}')`,
      true,
      ".metadata.name",
      RULE_MESSAGES.nameDns1035,
    ],
    [
      `oldSelf.hasValue() || self.metadata.name.size() <= ${MAX_NAME_LENGTH}`,
      true,
      ".metadata.name",
      RULE_MESSAGES.nameLength,
    ],
  ]);
  // "<name>-" and a 10-character hash fill a label value's 63 characters exactly.
  assert.equal(MAX_NAME_LENGTH + 1 + 10, 63);
});

Deno.test("the CRD's floor on storage and reserved database names are the zod schema's", () => {
  const size = celRules().filter((r) => r.at === "spec.storage.size").map((r) => r.rule);
  assert.ok(
    size.some((rule) => rule.includes(`quantity('${MIN_STORAGE_SIZE}')) >= 0`)),
    size.join("; "),
  );
  const names = celRules().filter((r) => r.at === "spec.databaseName").map((r) => r.rule);
  assert.ok(
    names.includes(`!(self in [${RESERVED_DATABASE_NAMES.map((n) => `'${n}'`).join(", ")}])`),
    names.join("; "),
  );
});

Deno.test("the CRD's CEL messages are exactly the zod schema's RULE_MESSAGES", () => {
  assert.deepEqual(
    celRules().map((r) => r.message).sort(),
    Object.values(RULE_MESSAGES).sort(),
  );
});

Deno.test("the CRD bounds the length of every string a CEL rule reads", () => {
  for (const { at } of celRules()) {
    if (at === "") continue; // metadata.name, which the API server bounds itself.
    let node: Yaml = root;
    for (const key of at.split(".")) node = node.properties[key];
    if (node.type === "string") assert.ok(node.maxLength > 0, at);
  }
});

Deno.test("image, databaseName, username, storage.storageClass, storage.size and restore carry the transition rules", () => {
  const transitions = celRules().filter((r) => r.rule.includes("oldSelf") && r.at !== "");
  assert.deepEqual(transitions.map((r) => [r.at, r.fieldPath, r.rule]), [
    ["spec", ".restore", "has(self.restore) == has(oldSelf.restore)"],
    ["spec.image", undefined, IMAGE_MAJOR_VERSION_RULE],
    ["spec.databaseName", undefined, "self == oldSelf"],
    ["spec.username", undefined, "self == oldSelf"],
    [
      // On storage, so that setting or removing the class is refused too.
      "spec.storage",
      ".storageClass",
      "has(self.storageClass) == has(oldSelf.storageClass) && " +
      "(!has(self.storageClass) || self.storageClass == oldSelf.storageClass)",
    ],
    [
      "spec.storage.size",
      undefined,
      "!isQuantity(self) || !isQuantity(oldSelf) || " +
      "quantity(self).compareTo(quantity(oldSelf)) >= 0",
    ],
    ["spec.restore", undefined, "self == oldSelf"],
  ]);
  assert.deepEqual(
    transitions.map((r) => r.message),
    [
      RULE_MESSAGES.restoreAtCreation,
      RULE_MESSAGES.imageMajorVersion,
      RULE_MESSAGES.databaseNameImmutable,
      RULE_MESSAGES.usernameImmutable,
      RULE_MESSAGES.storageClassImmutable,
      RULE_MESSAGES.sizeNeverShrinks,
      RULE_MESSAGES.restoreImmutable,
    ],
  );
});

/** The major version is the leading digits of the tag (a digest or no numeric tag: unknown). */
const IMAGE_MAJOR_VERSION_RULE = "self.contains('@') || oldSelf.contains('@') || " +
  "self.find(':[0-9]+[^:/]*$') == '' || oldSelf.find(':[0-9]+[^:/]*$') == '' || " +
  "self.find(':[0-9]+[^:/]*$').find('[0-9]+') == oldSelf.find(':[0-9]+[^:/]*$').find('[0-9]+')";

Deno.test("the spec-level 50Gi rule reports spec.storage.size", () => {
  const [rule, sync, ...others] = celRules().filter((r) =>
    r.at === "spec" && !r.rule.includes("oldSelf")
  );
  assert.equal(others.length, 0);
  assert.equal(sync?.fieldPath, ".synchronousReplicas");
  assert.equal(sync?.message, RULE_MESSAGES.synchronousReplicas);
  assert.equal(rule?.fieldPath, ".storage.size");
  assert.equal(rule?.message, RULE_MESSAGES.sizeForReplicas);
  assert.match(rule!.rule, /self\.replicas <= 5/);
  assert.match(rule!.rule, /quantity\(self\.storage\.size\)\.compareTo\(quantity\('50Gi'\)\) >= 0/);
});

Deno.test("the CRD's status conditions have the metav1.Condition shape, keyed by type", () => {
  const conditions = status.properties.conditions;
  assert.equal(conditions.type, "array");
  assert.equal(conditions["x-kubernetes-list-type"], "map");
  assert.deepEqual(conditions["x-kubernetes-list-map-keys"], ["type"]);
  const item = conditions.items;
  assert.deepEqual(
    [...item.required].sort(),
    ["lastTransitionTime", "message", "reason", "status", "type"],
  );
  assert.deepEqual(item.properties.status.enum, ["True", "False", "Unknown"]);
  assert.equal(item.properties.lastTransitionTime.format, "date-time");
  assert.equal(item.properties.message.maxLength, 32768);
  assert.ok(item.properties.reason.pattern);
  assert.equal(status.properties.observedGeneration.format, "int64");
  assert.equal(status.properties.ready.type, "boolean");
  assert.equal(status.properties.readyReplicas.type, "integer");
  assert.equal(status.properties.endpoint.type, "string");
  assert.equal(status.properties.secretName.type, "string");
});

Deno.test("the CRD kustomization lists the CRD file", () => {
  assert.deepEqual(readYaml("crd/kustomization.yaml").resources, [
    "bases/database.example.com_databases.yaml",
    "bases/database.example.com_backups.yaml",
  ]);
});

Deno.test("every sample is a valid Database with a DNS-safe name, one per environment", () => {
  const files: string[] = readYaml("samples/kustomization.yaml").resources;
  assert.ok(files.includes("database_v1_database.yaml"));
  const environments = new Set<unknown>();
  for (const file of files) {
    const sample = readYaml(`samples/${file}`);
    assert.equal(sample.apiVersion, API_VERSION, file);
    assert.equal(sample.kind, KIND, file);
    assert.match(sample.metadata.name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/, file);
    // A StatefulSet's controller-revision-hash label is "<name>-<10-character hash>", at most 63.
    assert.ok(sample.metadata.name.length <= 52, file);
    const result = parseDatabaseSpec(sample.spec);
    assert.ok(result.ok, `${file}: ${JSON.stringify(result)}`);
    environments.add(sample.spec.environment);
  }
  for (const environment of ENVIRONMENTS) assert.ok(environments.has(environment), environment);
});

Deno.test("the main sample is the course's valid-db", () => {
  const sample = readYaml("samples/database_v1_database.yaml");
  assert.equal(sample.metadata.name, "valid-db");
  assert.deepEqual(sample.spec, {
    image: "postgres:17",
    replicas: 1,
    databaseName: "mydb",
    username: "admin",
    storage: { size: "10Gi" },
  });
});
