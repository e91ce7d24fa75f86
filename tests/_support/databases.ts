/** Creating Databases in tests, with the course's valid-db spec as the default. */
import { collectionPath, type KubeClient } from "../../src/runtime/client/mod.ts";
import { DATABASE_RESOURCE } from "../../src/database/api/types.ts";

/** The course's valid-db spec. */
export const VALID_SPEC = {
  image: "postgres:17",
  replicas: 1,
  databaseName: "mydb",
  username: "admin",
  storage: { size: "10Gi" },
};

/** Creates a Database named `name` in `ns`. */
export async function createDatabase(
  client: KubeClient,
  ns: string,
  name: string,
  spec: object = VALID_SPEC,
): Promise<void> {
  await client.request("POST", collectionPath(DATABASE_RESOURCE, ns), {
    body: { apiVersion: "database.example.com/v1", kind: "Database", metadata: { name }, spec },
  });
}
