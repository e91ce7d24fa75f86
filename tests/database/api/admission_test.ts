import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  API_VERSION,
  checkDatabaseName,
  DATABASE_RESOURCE,
  GROUP,
  KIND,
  parseDatabaseSpec,
  PLURAL,
} from "../../../src/database/mod.ts";
import {
  ApiError,
  collectionPath,
  type KubeClient,
  type KubeObject,
  objectPath,
  type Query,
} from "../../../src/runtime/client/mod.ts";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import {
  allowedTransitions,
  invalidNames,
  invalidSpecs,
  transitionCases,
  validNames,
  validSpecs,
} from "./corpus.ts";

interface Database extends KubeObject {
  spec?: Record<string, unknown>;
}

interface Condition {
  type: string;
  status: string;
}

/** What the API server made of one create or update. */
type Verdict =
  | { accepted: true; spec: Record<string, unknown> }
  | { accepted: false; code: number; message: string; fields: string[] };

const SAMPLES = new URL("../../../manifests/samples/", import.meta.url);
const CRD_NAME = `${PLURAL}.${GROUP}`;

/**
 * The fields an API server error names, in its order: the `details.causes` of a 422 (without
 * the `<nil>` entries that only say other rules were skipped), or the unknown fields of a
 * strict-decoding 400, which carries no causes.
 */
function namedFields(error: ApiError): string[] {
  const causes = (error.status?.details?.causes ?? [])
    .map((cause) => cause.field ?? "")
    .filter((field) => field !== "" && field !== "<nil>");
  if (causes.length > 0) return causes;
  return [...error.message.matchAll(/unknown field "([^"]+)"/g)].map((match) => match[1]!);
}

function database(name: string, spec: unknown): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec };
}

/** Sends `request` and turns an ApiError into a refusal; any other failure is rethrown. */
async function verdict(request: Promise<Database>): Promise<Verdict> {
  try {
    return { accepted: true, spec: (await request).spec ?? {} };
  } catch (error) {
    if (!(error instanceof ApiError) || error.code === 0) throw error;
    return {
      accepted: false,
      code: error.code,
      message: error.message,
      fields: namedFields(error),
    };
  }
}

/** Creates a Database the way kubectl does, refusing unknown fields (`fieldValidation=Strict`). */
function create(client: KubeClient, ns: string, name: string, spec: unknown, query: Query = {}) {
  return verdict(client.request<Database>("POST", collectionPath(DATABASE_RESOURCE, ns), {
    query: { fieldValidation: "Strict", ...query },
    body: database(name, spec),
  }));
}

async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const created = await client.request<KubeObject>("POST", "/api/v1/namespaces", {
    body: { metadata: { generateName: `${prefix}-` } },
  });
  return created.metadata.name!;
}

async function listNames(client: KubeClient, ns: string): Promise<string[]> {
  const list = await client.request<{ items: Database[] }>(
    "GET",
    collectionPath(DATABASE_RESOURCE, ns),
  );
  return list.items.map((item) => item.metadata.name!);
}

function readSample(file: string): Database {
  return parse(Deno.readTextFileSync(new URL(file, SAMPLES)));
}

Deno.test("the API server enforces the Database CRD: names, samples, defaults and validation", async (t) => {
  const plane = await ControlPlane.start({ mode: "apiserver" });
  const client = plane.client;
  try {
    await t.step("the CRD is Established with the Database names and short name db", async () => {
      const crd = await client.request<{
        status: { conditions: Condition[]; acceptedNames: Record<string, unknown> };
      }>("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`);
      const status = (type: string) => crd.status.conditions.find((c) => c.type === type)?.status;
      assert.equal(status("Established"), "True");
      assert.equal(status("NamesAccepted"), "True");
      assert.equal(crd.status.acceptedNames.kind, KIND);
      assert.equal(crd.status.acceptedNames.plural, PLURAL);
      assert.deepEqual(crd.status.acceptedNames.shortNames, ["db"]);
    });

    await t.step(
      "a new Database reads as phase Pending before any operator writes its status",
      async () => {
        const ns = await createNamespace(client, "pending");
        const created = await client.request<{ status?: unknown }>(
          "POST",
          collectionPath(DATABASE_RESOURCE, ns),
          {
            body: {
              apiVersion: `${GROUP}/v1`,
              kind: KIND,
              metadata: { name: "fresh" },
              spec: { databaseName: "mydb", username: "admin", storage: { size: "10Gi" } },
            },
          },
        );
        assert.deepEqual(created.status, { phase: "Pending" });
        const read = await client.request<{ status?: unknown }>(
          "GET",
          objectPath(DATABASE_RESOURCE, ns, "fresh"),
        );
        assert.deepEqual(read.status, { phase: "Pending" });
        const printed = await plane.kubectl(["get", "db", "fresh", "-n", ns, "--no-headers"]);
        assert.match(printed.stdout, /^fresh\s+Pending\s/);
      },
    );

    await t.step("every sample is accepted and stored with the server's defaults", async () => {
      const ns = await createNamespace(client, "samples");
      const applied = await plane.kubectl(["apply", "-n", ns, "-k", SAMPLES.pathname]);
      assert.equal(applied.code, 0, applied.stderr);
      const files: string[] = parse(
        Deno.readTextFileSync(new URL("kustomization.yaml", SAMPLES)),
      ).resources;
      const samples = files.map(readSample);
      // At least one sample must leave both defaulted fields out, or this proves nothing.
      assert.ok(samples.some((s) => s.spec?.image === undefined && s.spec?.replicas === undefined));
      for (const sample of samples) {
        const stored = await client.request<Database>(
          "GET",
          objectPath(DATABASE_RESOURCE, ns, sample.metadata.name!),
        );
        assert.deepEqual(stored.spec, { image: "postgres:17", replicas: 1, ...sample.spec });
      }
      assert.deepEqual(
        (await listNames(client, ns)).sort(),
        samples.map((s) => s.metadata.name).sort(),
      );
    });

    await t.step(
      "kubectl get db prints the Phase, Ready, Reason, Replicas, Primary, Environment and Age columns",
      async () => {
        const ns = await createNamespace(client, "columns");
        const spec = {
          environment: "staging",
          replicas: 2,
          databaseName: "app",
          username: "app",
          storage: { size: "1Gi" },
        };
        assert.equal((await create(client, ns, "shown", spec)).accepted, true);
        // Through the status subresource, as the operator writes it.
        await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "shown", "status"), {
          body: {
            status: {
              phase: "Creating",
              ready: false,
              currentPrimary: "shown-1",
              conditions: [{
                type: "Ready",
                status: "False",
                reason: "Unschedulable",
                message: "0/1 nodes are available: 1 Insufficient cpu.",
                lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
              }],
            },
          },
          contentType: "application/merge-patch+json",
        });
        const out = await plane.kubectl(["get", "db", "-n", ns]);
        assert.equal(out.code, 0, out.stderr);
        const [header, row, ...rest] = out.stdout.trim().split("\n").map((line) =>
          line.split(/\s+/)
        );
        assert.deepEqual(header, [
          "NAME",
          "PHASE",
          "READY",
          "REASON",
          "REPLICAS",
          "PRIMARY",
          "ENVIRONMENT",
          "AGE",
        ]);
        assert.deepEqual(row?.slice(0, 7), [
          "shown",
          "Creating",
          "false",
          "Unschedulable",
          "2",
          "shown-1",
          "staging",
        ]);
        assert.match(row?.[7] ?? "", /^\d+s$/, "an age in seconds");
        assert.deepEqual(rest, []);
      },
    );

    await t.step(
      `each of the ${invalidSpecs.length} invalid specs is refused naming its field, leaving nothing behind`,
      async () => {
        assert.ok(invalidSpecs.length >= 20);
        const ns = await createNamespace(client, "invalid");
        for (const [i, { name, spec, field }] of invalidSpecs.entries()) {
          const result = await create(client, ns, `invalid-${i}`, spec);
          assert.ok(!result.accepted, `${name}: accepted as ${JSON.stringify(result)}`);
          assert.ok(result.message.includes(field), `${name}: ${result.message}`);
          assert.ok(result.fields.includes(field), `${name}: names ${result.fields}`);
        }
        assert.deepEqual(await listNames(client, ns), []);
      },
    );

    await t.step(
      "kubectl create refuses every invalid spec by default, unknown fields included",
      async () => {
        const ns = await createNamespace(client, "kubectl");
        for (const [i, { name, spec, field }] of invalidSpecs.entries()) {
          const out = await plane.kubectl(
            ["create", "-n", ns, "-f", "-"],
            JSON.stringify(database(`invalid-${i}`, spec)),
          );
          assert.notEqual(out.code, 0, `${name}: kubectl accepted it`);
          assert.ok(out.stderr.includes(field), `${name}: ${out.stderr}`);
        }
        assert.deepEqual(await listNames(client, ns), []);
      },
    );

    await t.step(
      "names that cannot become a Service or get StatefulSet pods are refused, naming the limit",
      async () => {
        const ns = await createNamespace(client, "names");
        const spec = { databaseName: "app", username: "app", storage: { size: "1Gi" } };
        for (const { name, value } of invalidNames) {
          const result = await create(client, ns, value, spec);
          assert.ok(!result.accepted, `${name}: accepted`);
          assert.equal(result.code, 422, `${name}: ${result.message}`);
          assert.deepEqual(result.fields, ["metadata.name"], `${name}: ${result.message}`);
          const expected = checkDatabaseName(value);
          assert.ok(expected, `${name}: checkDatabaseName accepts it`);
          assert.ok(result.message.includes(expected), `${name}: ${result.message}`);
        }
        for (const { name, value } of validNames) {
          const result = await create(client, ns, value, spec, { dryRun: "All" });
          assert.ok(result.accepted, `${name}: ${JSON.stringify(result)}`);
          assert.equal(checkDatabaseName(value), undefined, name);
        }
        assert.deepEqual(await listNames(client, ns), []);
      },
    );

    await t.step("generateName that would make the name too long is refused", async () => {
      const ns = await createNamespace(client, "generated");
      // The server appends 5 characters to generateName before validating the name.
      const result = await verdict(
        client.request<Database>("POST", collectionPath(DATABASE_RESOURCE, ns), {
          body: {
            apiVersion: API_VERSION,
            kind: KIND,
            metadata: { generateName: `db-${"x".repeat(45)}-` },
            spec: { databaseName: "mydb", username: "admin", storage: { size: "10Gi" } },
          },
        }),
      );
      assert.ok(!result.accepted, JSON.stringify(result));
      assert.deepEqual(result.fields, ["metadata.name"]);
    });

    await t.step(
      "a Database admitted before the new rules can still get status, lose finalizers and be fixed",
      async () => {
        const ns = await createNamespace(client, "older");
        const schema = "/spec/versions/0/schema/openAPIV3Schema";
        // The previous CRD: no rules on the name, no 64Mi floor.
        const loosened = await plane.kubectl([
          "patch",
          "crd",
          CRD_NAME,
          "--type=json",
          "-p",
          JSON.stringify([
            { op: "remove", path: `${schema}/x-kubernetes-validations` },
            {
              op: "remove",
              path:
                `${schema}/properties/spec/properties/storage/properties/size/x-kubernetes-validations/1`,
            },
          ]),
        ]);
        assert.equal(loosened.code, 0, loosened.stderr);
        const name = `db-${"x".repeat(55)}`;
        const path = objectPath(DATABASE_RESOURCE, ns, name);
        try {
          await eventually(async () => {
            const result = await verdict(
              client.request<Database>("POST", collectionPath(DATABASE_RESOURCE, ns), {
                body: {
                  ...database(name, {
                    databaseName: "app",
                    username: "app",
                    storage: { size: "10Mi" },
                  }),
                  metadata: { name, finalizers: ["database.example.com/finalizer"] },
                },
              }),
            );
            return result.accepted;
          }, "the looser CRD accepts a 58-character name and 10Mi");
        } finally {
          await plane.installCRDs();
        }
        await eventually(
          async () =>
            !(await create(client, ns, `${name}-2`, {
              databaseName: "app",
              username: "app",
              storage: { size: "1Gi" },
            })).accepted,
          "the current CRD refuses long names again",
        );
        const merge = { contentType: "application/merge-patch+json" };
        await client.request("PATCH", `${path}/status`, {
          body: { status: { phase: "Failed" } },
          ...merge,
        });
        await client.request("PATCH", path, { body: { metadata: { finalizers: null } }, ...merge });
        await client.request("PATCH", path, {
          body: { spec: { storage: { size: "1Gi" } } },
          ...merge,
        });
        const stored = await client.request<Database & { status?: { phase?: string } }>(
          "GET",
          path,
        );
        assert.equal(stored.status?.phase, "Failed");
        assert.deepEqual(stored.metadata.finalizers ?? [], []);
        assert.deepEqual(stored.spec?.storage, { size: "1Gi" });
        await client.request("DELETE", path);
      },
    );

    await t.step(
      "changing databaseName, username or storageClass and shrinking storage are refused on update",
      async () => {
        const ns = await createNamespace(client, "transitions");
        for (const [i, { name, oldSpec, newSpec, field }] of transitionCases.entries()) {
          const created = await create(client, ns, `refused-${i}`, oldSpec);
          assert.ok(created.accepted, `${name}: ${JSON.stringify(created)}`);
          const path = objectPath(DATABASE_RESOURCE, ns, `refused-${i}`);
          const current = await client.request<Database>("GET", path);
          const result = await verdict(client.request<Database>("PUT", path, {
            query: { fieldValidation: "Strict" },
            body: { ...current, spec: newSpec },
          }));
          assert.ok(!result.accepted, `${name}: update accepted`);
          assert.equal(result.code, 422, result.message);
          assert.ok(result.message.includes(field), `${name}: ${result.message}`);
          assert.deepEqual(result.fields, [field], name);
          assert.deepEqual((await client.request<Database>("GET", path)).spec, current.spec, name);
        }
      },
    );

    await t.step(
      "growing storage, rewriting its unit, scaling and a new image are allowed",
      async () => {
        const ns = await createNamespace(client, "allowed");
        for (const [i, { name, oldSpec, newSpec }] of allowedTransitions.entries()) {
          assert.ok((await create(client, ns, `allowed-${i}`, oldSpec)).accepted, name);
          const path = objectPath(DATABASE_RESOURCE, ns, `allowed-${i}`);
          const current = await client.request<Database>("GET", path);
          const result = await verdict(client.request<Database>("PUT", path, {
            query: { fieldValidation: "Strict" },
            body: { ...current, spec: newSpec },
          }));
          const expected = parseDatabaseSpec(newSpec);
          assert.ok(result.accepted, `${name}: ${JSON.stringify(result)}`);
          assert.ok(expected.ok, name);
          assert.deepEqual(result.spec, expected.spec, name);
        }
      },
    );

    await t.step("parseDatabaseSpec and the API server agree on every corpus case", async () => {
      const ns = await createNamespace(client, "agree");
      // A dry run is validated and defaulted exactly like a create, and stores nothing.
      const dryRun = { dryRun: "All" };
      for (const [i, { name, spec }] of validSpecs.entries()) {
        const server = await create(client, ns, `valid-${i}`, spec, dryRun);
        const zod = parseDatabaseSpec(spec);
        assert.ok(server.accepted, `${name}: server refused ${JSON.stringify(server)}`);
        assert.ok(zod.ok, `${name}: zod refused ${JSON.stringify(zod)}`);
        assert.deepEqual(zod.spec, server.spec, name);
      }
      for (const [i, { name, spec, field }] of invalidSpecs.entries()) {
        const server = await create(client, ns, `invalid-${i}`, spec, dryRun);
        const zod = parseDatabaseSpec(spec);
        assert.ok(!server.accepted, `${name}: server accepted it`);
        assert.ok(!zod.ok, `${name}: zod accepted it`);
        // The server reports every rule a spec breaks (replicas 11 also breaks the 50Gi rule),
        // zod only the first; the corpus field comes first in both.
        assert.equal(server.fields[0], field, `${name}: server names ${server.fields}`);
        assert.equal(zod.field, field, `${name}: zod names ${zod.field}`);
      }
      assert.deepEqual(await listNames(client, ns), []);
    });
  } finally {
    await plane.stop();
  }
});
