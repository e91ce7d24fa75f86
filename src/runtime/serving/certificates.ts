/**
 * X.509 certificates made in memory with WebCrypto (ECDSA P-256): the metrics server's
 * self-signed certificate, and the local control plane's CA, serving and client certificates.
 *
 * @module
 */
import * as x509 from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** A certificate with its private key, as PEM and as objects that can sign others. */
export interface Certificate {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  privateKey: CryptoKey;
}

/** What to put in a certificate. */
export interface CertificateOptions {
  commonName: string;
  /** Subject organizations; Kubernetes reads them as group names of a client certificate. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** A certificate authority that signs others. @default false */
  isCA?: boolean;
  /** Signs the new certificate; without it the certificate is self-signed. */
  issuer?: Certificate;
  /** @default 365 */
  validDays?: number;
  /** When it starts to be valid (a minute earlier, for clocks that differ). @default now */
  now?: Date;
}

/** Creates a key pair and a certificate for it. */
export async function createCertificate(options: CertificateOptions): Promise<Certificate> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const subject = [
    `CN=${options.commonName}`,
    ...(options.organizations ?? []).map((o) => `O=${o}`),
  ].join(", ");
  const now = options.now?.getTime() ?? Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + (options.validDays ?? 365) * 86_400_000);
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(options.isCA ?? false, undefined, true),
    new x509.KeyUsagesExtension(
      options.isCA
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
  ];
  if (!options.isCA) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const serialNumber = Array.from(crypto.getRandomValues(new Uint8Array(8)))
    .map((b) => b.toString(16).padStart(2, "0")).join("").replace(/^[89a-f]/, "1");
  const issuer = options.issuer;
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
      serialNumber,
      subject,
      issuer: issuer.cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: issuer.privateKey,
      extensions,
    })
    : await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber,
      name: subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      keys,
      extensions,
    });
  return {
    certPem: cert.toString("pem"),
    keyPem: await privateKeyPem(keys.privateKey),
    cert,
    privateKey: keys.privateKey,
  };
}

/**
 * A certificate and its PKCS#8 ECDSA P-256 key read back from PEM (as a Secret keeps them), able
 * to sign others. @throws {Error} when either does not parse or the key does not match.
 */
export async function loadCertificate(certPem: string, keyPem: string): Promise<Certificate> {
  const cert = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decodeFirst(keyPem);
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    der,
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign"],
  );
  // The key signs what the certificate's public key verifies, or they are not a pair.
  const data = new Uint8Array([1, 2, 3]);
  const signature = await crypto.subtle.sign(ALGORITHM, privateKey, data);
  const publicKey = await cert.publicKey.export(ALGORITHM, ["verify"]);
  if (!(await crypto.subtle.verify(ALGORITHM, publicKey, signature, data))) {
    throw new Error("the private key does not belong to the certificate");
  }
  return { certPem, keyPem, cert, privateKey };
}

/** A bare key pair as PEM (PKCS#8 private, SPKI public), e.g. for service-account tokens. */
export async function createKeyPair(): Promise<{ privatePem: string; publicPem: string }> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const spki = await crypto.subtle.exportKey("spki", keys.publicKey);
  return {
    privatePem: await privateKeyPem(keys.privateKey),
    publicPem: x509.PemConverter.encode(spki, "PUBLIC KEY"),
  };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}
