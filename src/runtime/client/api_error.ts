/**
 * The errors of API requests: {@linkcode ApiError} with the server's `metav1.Status`, made from an
 * answer that is not 2xx, and client-go's reading of `Retry-After`.
 *
 * @module
 */

/** A `metav1.Status` returned by the API server with an error. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/**
 * The API server answered with an error status, or could not be reached (`code` 0; `reason`
 * `NetworkError`, `Timeout`, `CredentialsError`, or `ClientRateLimited` when the client's own
 * rate limiter could not grant the request before its deadline).
 * Retryable when `code` is 0, 429 or 5xx; a conflict (409) is retryable by re-reading.
 */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: Status,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** True when the same request may succeed later without any change. */
  get retryable(): boolean {
    return this.code === 0 || this.code === 429 || this.code >= 500;
  }
}

/** The error for a non-2xx answer, from its `metav1.Status` when it has one. */
export async function apiError(
  method: string,
  path: string,
  response: Response,
): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let status: Status | undefined;
  try {
    status = JSON.parse(text) as Status;
  } catch {
    status = undefined;
  }
  return new ApiError(
    response.status,
    status?.reason ?? response.statusText,
    `${method} ${path}: ${status?.message ?? (text || response.statusText)}`,
    status,
  );
}

/**
 * client-go's `checkWait`: for 429 and 5xx only, `Retry-After` as whole seconds (not a date).
 * @returns The delay in ms, or undefined when the answer is not to be retried.
 */
export function retryAfter(response: Response): number | undefined {
  if (response.status !== 429 && response.status < 500) return undefined;
  const header = response.headers.get("retry-after")?.trim();
  if (!header || !/^[+-]?\d+$/.test(header)) return undefined;
  return Math.max(Number(header), 0) * 1000;
}
