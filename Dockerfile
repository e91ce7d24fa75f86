# The operator image: one `deno compile`d binary on an empty base.
#
# The build stage compiles dist/postgres-operator with the `operator` permission set of deno.json
# and assembles its root filesystem with tools/rootfs.ts: the binary, exactly the shared libraries
# it links (image/rootfs.txt, checked against ldd on every build), CA certificates, and
# /etc/passwd and /etc/group with user 65532. The final stage is that folder and nothing else: no
# shell, no package manager. tests/image/rootfs_test.ts assembles the same root from the deno
# binary and runs it with chroot.
#
#   docker build -t postgres-operator:latest --build-arg COMMIT=$(git rev-parse --short=12 HEAD) .
#
# (`deno task image` does that.) linux/amd64 and linux/arm64: the build stage runs on the target
# platform (`make docker-buildx`, emulated where needed), so `deno compile` embeds that
# platform's runtime and tools/rootfs.ts copies that architecture's section of image/rootfs.txt.

FROM denoland/deno:debian-2.9.6 AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that editing the sources reuses this layer.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY main.ts ./
COPY src/ src/
COPY tools/compile.ts tools/rootfs.ts tools/
COPY image/ image/
ARG COMMIT=unknown
# V8's old-space limit compiled into the binary (a compiled binary ignores DENO_V8_FLAGS): 1/2 of
# the container's memory limit, 128 for the manifests' 256Mi (README, "Memory").
ARG MAX_OLD_SPACE_MIB=128
RUN deno task compile --commit=${COMMIT} --max-old-space-size=${MAX_OLD_SPACE_MIB} \
  && deno run -A tools/rootfs.ts dist/postgres-operator /postgres-operator /rootfs

FROM scratch
COPY --from=build /rootfs /
USER 65532:65532
ENTRYPOINT ["/postgres-operator"]
