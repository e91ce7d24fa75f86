/**
 * Writes an OCI image layout (the `index.json` + `blobs/sha256/…` folder that `ctr images import`
 * reads from a tar stream) from one uncompressed layer, without a container engine or registry.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** The parts of an OCI image config that the harness's images set. */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
}

/**
 * Writes the layout into `dir` (which must not exist yet) with `layerTar` moved in as its only
 * layer, and names the image `names` (full references, such as `docker.io/library/postgres:17`).
 */
export async function writeOciLayout(
  dir: string,
  layerTar: string,
  config: ImageConfig,
  names: string[],
): Promise<void> {
  const blobs = `${dir}/blobs/sha256`;
  await Deno.mkdir(blobs, { recursive: true });
  const layerDigest = await sha256File(layerTar);
  const layerSize = (await Deno.stat(layerTar)).size;
  await Deno.rename(layerTar, `${blobs}/${layerDigest}`);
  const writeBlob = async (value: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    const digest = createHash("sha256").update(bytes).digest("hex");
    await Deno.writeFile(`${blobs}/${digest}`, bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const configBlob = await writeBlob({
    architecture: "amd64",
    os: "linux",
    config,
    rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: "postgres-operator tools/testenv/images" }],
  });
  const manifest = await writeBlob({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: `sha256:${layerDigest}`,
      size: layerSize,
    }],
  });
  await Deno.writeTextFile(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await Deno.writeTextFile(
    `${dir}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: names.map((name) => ({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        platform: { architecture: "amd64", os: "linux" },
        annotations: {
          "io.containerd.image.name": name,
          "org.opencontainers.image.ref.name": name.slice(name.lastIndexOf(":") + 1),
        },
      })),
    }),
  );
}

/** The hex SHA-256 of a file, read as a stream (layers are hundreds of megabytes). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}
