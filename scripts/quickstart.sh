#!/usr/bin/env bash
# Quick start without Docker Hub: start a throwaway registry on loopback, seed it through
# the registry HTTP API with stand-ins for nginx, redis and postgres, then run imagepin on
# a copy of examples/quickstart/ with that registry mirroring docker.io.
#
# Needs: bash, curl, sha256sum and Debian's docker-registry package. Set IMAGEPIN to the
# binary to use (default: imagepin on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
imagepin="${IMAGEPIN:-imagepin}"
case "$imagepin" in */*) imagepin="$(cd "$(dirname "$imagepin")" && pwd)/$(basename "$imagepin")" ;; esac
command -v docker-registry >/dev/null || { echo "needs Debian's docker-registry: sudo apt-get install docker-registry" >&2; exit 1; }
command -v "$imagepin" >/dev/null || [ -x "$imagepin" ] || { echo "imagepin not found: build it (cargo build --release) and set IMAGEPIN=target/release/imagepin" >&2; exit 1; }

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))"
reg="http://127.0.0.1:$port"
cat > "$work/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; wait $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "$reg/v2/" >/dev/null && break; sleep 0.05; done
curl -fs "$reg/v2/" >/dev/null || { echo "registry did not start; see $work/registry.log" >&2; exit 1; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Upload a blob (POST, then PUT to the upload location) and print its digest.
blob() {
    local repo=$1 file=$2 digest location
    digest="sha256:$(sha "$file")"
    location="$(curl -fsS -X POST -D - -o /dev/null "$reg/v2/$repo/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')"
    case "$location" in /*) location="$reg$location" ;; esac
    case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
    curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$location" >/dev/null
    echo "$digest"
}

# Push a one-layer OCI image for a platform; print "digest size" of its manifest.
image() {
    local repo=$1 ref=$2 salt=$3 os=${4:-linux} arch=${5:-amd64} cfg layer m
    printf '{"architecture":"%s","os":"%s","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"salt":"%s"}}}' "$arch" "$os" "$salt" > "$work/cfg"
    printf 'layer %s %s/%s' "$salt" "$os" "$arch" > "$work/layer"
    cfg=$(blob "$repo" "$work/cfg"); layer=$(blob "$repo" "$work/layer")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
        "$cfg" "$(stat -c %s "$work/cfg")" "$layer" "$(stat -c %s "$work/layer")" > "$work/manifest"
    m="sha256:$(sha "$work/manifest")"
    [ "$ref" = "-" ] && ref="$m"
    curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$work/manifest" "$reg/v2/$repo/manifests/$ref" >/dev/null
    echo "$m $(stat -c %s "$work/manifest")"
}

echo "== seeding a local registry at $reg (stands in for docker.io)"
image library/nginx 1.25 nginx-1.25 >/dev/null
image library/redis 7 redis-7 >/dev/null
image library/postgres 16 postgres-16 >/dev/null
# nginx:latest and redis:latest as two-platform OCI indexes, like the real ones.
for repo in nginx redis; do
    read -r amd amd_size < <(image "library/$repo" - "$repo-latest" linux amd64)
    read -r arm arm_size < <(image "library/$repo" - "$repo-latest" linux arm64)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"amd64"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"arm64"}}]}' \
        "$amd" "$amd_size" "$arm" "$arm_size" > "$work/index"
    curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary "@$work/index" "$reg/v2/library/$repo/manifests/latest" >/dev/null
done

tree="$work/quickstart"
cp -r "$here/examples/quickstart" "$tree"
cd "$tree"
run() { echo; echo "\$ imagepin $*"; "$imagepin" "$@" || echo "(exit code $?)"; }
run check
run fix --diff --mirror "docker.io=$reg"
run fix --mirror "docker.io=$reg"
run check
echo
echo "== the pinned files"
for f in k8s/deployment.yaml compose.yaml Dockerfile; do echo "--- $f"; cat "$f"; done
