/**
 * The certificate a TLS server presents: `tls.crt` and `tls.key` from a folder (a mounted
 * Secret, e.g. from cert-manager), checked for changes periodically as controller-runtime's
 * certwatcher does, or a self-signed one made in memory.
 *
 * @module
 */
import { createCertificate } from "./certificates.ts";

/** A certificate chain and its private key, both PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** The key pair could not be read or is not usable (unparsable, or key and cert differ). */
export class KeyPairError extends Error {
  override name = "KeyPairError";
}

/**
 * Reads `tls.crt` and `tls.key` from `certDir` and checks that they form a usable pair.
 * @throws {KeyPairError} when a file is missing or the pair is not usable.
 */
export async function loadKeyPair(certDir: string): Promise<KeyPair> {
  let pair: KeyPair;
  try {
    pair = {
      cert: await Deno.readTextFile(`${certDir}/tls.crt`),
      key: await Deno.readTextFile(`${certDir}/tls.key`),
    };
  } catch (error) {
    throw new KeyPairError(`Cannot read ${certDir}/tls.crt and tls.key: ${error}`, {
      cause: error,
    });
  }
  try {
    // Building a client with the pair makes rustls parse both and check that they match, with no
    // socket involved. (node:tls's createSecureContext in Deno accepts even garbage.)
    Deno.createHttpClient({ cert: pair.cert, key: pair.key }).close();
  } catch (error) {
    throw new KeyPairError(`Unusable key pair in ${certDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return pair;
}

/** A self-signed pair for `localhost`, `127.0.0.1` and `hosts` (DNS names or IPv4 addresses). */
export async function selfSignedKeyPair(hosts: string[] = []): Promise<KeyPair> {
  const isIp = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  const certificate = await createCertificate({
    commonName: "postgres-operator-metrics",
    dnsNames: ["localhost", ...hosts.filter((h) => !isIp(h))],
    ipAddresses: [...new Set(["127.0.0.1", ...hosts.filter(isIp)])],
  });
  return { cert: certificate.certPem, key: certificate.keyPem };
}

/**
 * Checks `certDir` every `intervalMs` until `signal` aborts and calls `onChange` with each new
 * usable pair. A pair that does not load (e.g. caught between the writes of its two files) goes
 * to `onError`, and the current one stays in use.
 */
export function watchKeyPair(
  certDir: string,
  current: KeyPair,
  options: {
    intervalMs: number;
    onChange: (pair: KeyPair) => void;
    onError: (error: KeyPairError) => void;
    signal: AbortSignal;
  },
): void {
  if (options.signal.aborted) return;
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const next = await loadKeyPair(certDir);
      if (next.cert === current.cert && next.key === current.key) return;
      current = next;
      options.onChange(next);
    } catch (error) {
      options.onError(error as KeyPairError);
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(check, options.intervalMs);
  options.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
