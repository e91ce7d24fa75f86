/**
 * What an informer tells its subscribers: one change to one cached object. Apart from the
 * informer, so the reflector and the created-objects record can name it without importing the
 * informer (no import cycle).
 *
 * @module
 */

/** A change seen by an informer. */
export interface InformerEvent<T> {
  type: "added" | "updated" | "deleted";
  object: T;
  /** The cached object before an update. */
  old?: T;
  /** The event comes from the first list after start. */
  initial: boolean;
}
