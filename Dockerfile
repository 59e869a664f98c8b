# imagepin's container image: a static (musl) imagepin on an empty base, with the CA
# bundle it verifies registries against, running as a non-root user in /work.
#
#   docker build -t imagepin .
#   docker run --rm -v "$PWD:/work" imagepin check
#   docker run --rm -u "$(id -u):$(id -g)" -v "$PWD:/work" imagepin fix
#
# Every FROM is pinned by digest (`imagepin check Dockerfile` exits 0; .ci/run checks it);
# `imagepin update Dockerfile` moves the pin when the tag moves. Alpine's native Rust target
# is musl, which links statically by default. .github/workflows/container.yml publishes
# the image to GHCR for linux/amd64 and linux/arm64, each built on a native runner.

FROM rust:1.99-alpine@sha256:0cce0a5e0e8ba67b455257a3a02a1d99005f382748789d6464460028810f1627 AS build
# gcc builds ring's C code, binutils gives readelf for the static check below.
RUN apk add --no-cache gcc musl-dev binutils ca-certificates
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo.toml names the benchmarks; cargo refuses a manifest whose targets are missing.
COPY benches ./benches
RUN cargo build --locked --profile dist \
    && cp target/dist/imagepin /imagepin \
    && if readelf --dynamic /imagepin | grep -q NEEDED; then \
           echo "imagepin is not static:" >&2; readelf --dynamic /imagepin >&2; exit 1; \
       fi \
    && /imagepin --version

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /imagepin /usr/local/bin/imagepin
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# No /etc/passwd on scratch: a numeric user (distroless's "nonroot" uid). HOME is /, so
# registry credentials come from a mounted file named by DOCKER_CONFIG or REGISTRY_AUTH_FILE.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["imagepin"]
