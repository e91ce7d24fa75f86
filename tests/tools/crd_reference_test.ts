/**
 * docs/reference/database.md is the CRDs' schemas rendered (`deno task docs:reference`): it names
 * every field, and it is what the renderer makes of today's CRDs.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  CRD_FILES,
  fieldRows,
  REFERENCE_PAGE,
  renderReference,
} from "../../tools/crd_reference.ts";

Deno.test("fieldRows() walks objects, arrays and maps, with required, defaults and bounds", () => {
  const rows = fieldRows({
    required: ["size"],
    properties: {
      size: { type: "string", description: "How big.", pattern: "^a|b$" },
      count: { type: "integer", format: "int32", default: 1, minimum: 0, maximum: 9 },
      users: {
        type: "array",
        items: { type: "object", properties: { name: { type: "string", enum: ["x", "y"] } } },
      },
      limits: { type: "object", additionalProperties: { "x-kubernetes-int-or-string": true } },
    },
  }, "spec");
  assert.deepEqual(rows.map((r) => [r.path, r.type, r.required]), [
    ["spec.size", "string", true],
    ["spec.count", "integer (int32)", false],
    ["spec.users", "array of object", false],
    ["spec.users[].name", "string", false],
    ["spec.limits", "map of integer or string", false],
  ]);
  assert.equal(rows[0]!.notes, "How big. (matches `^a\\|b$`)");
  assert.equal(rows[1]!.notes, "(default `1`; ≥ 0; ≤ 9)");
  assert.equal(rows[3]!.notes, "(one of `x`, `y`)");
});

Deno.test("the reference page is today's CRDs rendered, and names every field", async () => {
  const crds = await Promise.all(CRD_FILES.map((f) => Deno.readTextFile(f)));
  const formatted = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = formatted.stdin.getWriter();
  await writer.write(new TextEncoder().encode(renderReference(crds)));
  await writer.close();
  const expected = new TextDecoder().decode((await formatted.output()).stdout);
  const page = await Deno.readTextFile(REFERENCE_PAGE);
  assert.ok(page === expected, `${REFERENCE_PAGE} is out of date: run deno task docs:reference`);
  // Every property of every schema, walked here without the renderer.
  type Node = { properties?: Record<string, Node>; items?: Node };
  const walk = (node: Node, path: string): string[] =>
    Object.entries(node.properties ?? {}).flatMap(([name, child]) => [
      `${path}.${name}`,
      ...walk(child, `${path}.${name}`),
      ...(child.items ? walk(child.items, `${path}.${name}[]`) : []),
    ]);
  let count = 0;
  for (const text of crds) {
    const crd = parse(text) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
    for (const version of crd.spec.versions) {
      const root = version.schema.openAPIV3Schema.properties!;
      for (const path of [...walk(root.spec!, "spec"), ...walk(root.status ?? {}, "status")]) {
        assert.ok(page.includes(`| \`${path}\` `), `${path} is missing from ${REFERENCE_PAGE}`);
        count++;
      }
    }
  }
  assert.ok(count > 50, `${count} fields`);
});
