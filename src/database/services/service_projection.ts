/**
 * What the cache keeps of an owned Service: what the operator sets.
 *
 * @module
 */
import { mergeShapes, projection, shapeOf } from "../../runtime/cache/mod.ts";
import { FULL_EXAMPLE, openMaps, WRITERS } from "../objects/mod.ts";
import {
  desiredPodsService,
  desiredReadOnlyService,
  desiredService,
  type Service,
} from "./service.ts";

/** Cache transform of owned Services (the read-write, read-only and headless ones). */
export const projectService = projection<Service>({
  metadata: WRITERS,
  spec: openMaps(
    mergeShapes(
      [desiredService, desiredReadOnlyService, desiredPodsService].map((desired) =>
        shapeOf(desired(FULL_EXAMPLE).spec)
      ),
    ),
  ),
});
