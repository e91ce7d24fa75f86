/**
 * What the cache keeps of an owned StatefulSet: what the operator sets and the status it reads.
 *
 * @module
 */
import { projection, shapeOf } from "../../runtime/cache/mod.ts";
import { FULL_EXAMPLE, FULL_SPEC, openMaps, WRITERS } from "../objects/mod.ts";
import { desiredStatefulSet, type StatefulSet } from "./statefulset.ts";

/** Cache transform of owned StatefulSets. */
export const projectStatefulSet = projection<StatefulSet>({
  metadata: WRITERS,
  spec: openMaps(
    shapeOf(desiredStatefulSet(FULL_EXAMPLE, FULL_SPEC, undefined, "version", "certificate").spec),
  ),
  status: {
    observedGeneration: true,
    replicas: true,
    readyReplicas: true,
    updatedReplicas: true,
    updateRevision: true,
  },
});
