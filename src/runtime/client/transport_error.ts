/**
 * The error of an HTTP exchange that failed before an answer arrived.
 *
 * @module
 */

/** The exchange failed before an answer arrived (refused, reset, TLS refused, proxy refused). */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(message: string, readonly code: string | undefined, options?: ErrorOptions) {
    super(message, options);
  }

  /**
   * The connection was reset or closed before an answer: client-go's `IsConnectionReset` and
   * `IsProbableEOF`, the errors after which it retries a GET.
   */
  get reset(): boolean {
    return this.code === "ECONNRESET" || this.code === "EPIPE" ||
      /socket hang up|connection reset|broken pipe|unexpected eof/i.test(this.message);
  }
}
