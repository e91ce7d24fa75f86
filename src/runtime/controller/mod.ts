/**
 * The controller: the user's contract (`Request` → `Result`), workers over the queue, the manager
 * that starts informers and controllers, and the Events recorder.
 *
 * @module
 */
export * from "./controller.ts";
export * from "./events.ts";
export * from "./manager.ts";
export * from "./reconcile.ts";
