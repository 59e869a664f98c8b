#!/usr/bin/env bash
# scripts/quickstart.sh: imagepin's quick start, without Docker Hub or Docker.
# Owns: a throwaway registry (Debian's docker-registry) on a free loopback port with a
# temporary directory, seeded through the registry HTTP API with stand-ins for
# library/nginx (1.25, and latest as a two-platform OCI index), library/redis (7, latest)
# and library/postgres (16); then imagepin over a copy of examples/quickstart/ with that
# registry mirroring docker.io: check, fix --diff, fix, check again, the pinned files.
# Needs only bash, curl, sha256sum and coreutils; installs nothing.
#
#     cargo build --release && IMAGEPIN=target/release/imagepin scripts/quickstart.sh
#
# Exits with the status of the final `imagepin check` (0 once everything is pinned).
set -euo pipefail
shopt -s inherit_errexit # a failing curl inside $(...) stops the script too

root="$(cd "$(dirname "$0")/.." && pwd)"
imagepin="${IMAGEPIN:-imagepin}"
# A path relative to the caller's directory must survive the `cd` below.
case "$imagepin" in */*) imagepin="$(cd "$(dirname "$imagepin")" && pwd)/$(basename "$imagepin")" ;; esac

need() { command -v "$1" >/dev/null 2>&1 || { echo "quickstart: $1 not found. $2" >&2; exit 1; }; }
need docker-registry "Install Debian's registry: sudo apt-get install -y docker-registry"
need curl "Install it: sudo apt-get install -y curl"
need sha256sum "It comes with coreutils."
need "$imagepin" "Build imagepin (cargo build --release), then: IMAGEPIN=target/release/imagepin $0"

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json
work="$(mktemp -d "${TMPDIR:-/tmp}/imagepin-quickstart.XXXXXX")"
registry_pid=""
stop_registry() {
    if [ -n "$registry_pid" ]; then
        kill "$registry_pid" 2>/dev/null || true
        wait "$registry_pid" 2>/dev/null || true
        registry_pid=""
    fi
}
trap 'stop_registry; rm -rf "$work"' EXIT

# ---- a registry on a free loopback port -------------------------------------------
# A random port that nothing listens on; should the registry still lose it to someone
# else, try another. The instance header proves that the answer comes from this child.
start_registry() {
    local attempt port token
    for attempt in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi # taken
        token="quickstart-$$-$attempt"
        cat >"$work/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  headers:
    X-Quickstart-Registry: ["$token"]
YAML
        docker-registry serve "$work/config.yml" </dev/null >"$work/registry.log" 2>&1 &
        registry_pid=$!
        for _ in $(seq 200); do # poll GET /v2/ for up to ~10 s
            kill -0 "$registry_pid" 2>/dev/null || break # exited
            if curl -sS -m 2 -D - -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null |
                tr -d '\r' | grep -qix "x-quickstart-registry: $token"; then
                reg="http://127.0.0.1:$port"
                return 0
            fi
            sleep 0.05
        done
        stop_registry
        if ! grep -q "address already in use" "$work/registry.log"; then
            echo "quickstart: the registry did not start:" >&2
            cat "$work/registry.log" >&2
            exit 1
        fi
    done
    echo "quickstart: found no free loopback port in 5 attempts" >&2
    exit 1
}

# ---- seeding through the registry HTTP API ----------------------------------------
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# Upload a blob (POST, then PUT to the Location it answers; a single POST ?digest= stores
# nothing in 2.8) and print its digest.
put_blob() { # REPO FILE
    local digest location
    digest="sha256:$(sha "$2")"
    location="$(curl -fsS -X POST -D - -o /dev/null "$reg/v2/$1/blobs/uploads/" |
        tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')"
    case "$location" in /*) location="$reg$location" ;; esac # may be relative
    case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
    curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$location" >/dev/null
    echo "$digest"
}

put_manifest() { # REPO TAG-OR-DIGEST MEDIA-TYPE FILE
    curl -fsS -X PUT -H "Content-Type: $3" --data-binary "@$4" "$reg/v2/$1/manifests/$2" >/dev/null
}

# Push a one-layer OCI image for linux/ARCH[/VARIANT] and print "DIGEST SIZE" of its
# manifest; TAG "-" pushes it by digest only (a child of an index).
push_image() { # REPO TAG SALT [ARCH [VARIANT]]
    local repo=$1 tag=$2 salt=$3 arch=${4:-amd64} variant=${5:-} platform layer config digest
    platform="\"os\":\"linux\",\"architecture\":\"$arch\"${variant:+,\"variant\":\"$variant\"}"
    printf 'quickstart layer %s linux/%s\n' "$salt" "$arch" >"$work/layer"
    layer="$(put_blob "$repo" "$work/layer")"
    printf '{%s,"rootfs":{"type":"layers","diff_ids":["%s"]},"config":{"Labels":{"salt":"%s"}}}' \
        "$platform" "$layer" "$salt" >"$work/config"
    config="$(put_blob "$repo" "$work/config")"
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
        "$OCI_MANIFEST" "$config" "$(size "$work/config")" "$layer" "$(size "$work/layer")" >"$work/manifest"
    digest="sha256:$(sha "$work/manifest")"
    [ "$tag" = - ] && tag="$digest"
    put_manifest "$repo" "$tag" "$OCI_MANIFEST" "$work/manifest"
    echo "$digest $(size "$work/manifest")"
}

# Push linux/amd64 and linux/arm64/v8 images and an OCI index of them under TAG.
push_index() { # REPO TAG SALT
    local amd arm
    amd="$(push_image "$1" - "$3" amd64)"
    arm="$(push_image "$1" - "$3" arm64 v8)"
    printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"amd64"}},{"mediaType":"%s","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}' \
        "$OCI_INDEX" "$OCI_MANIFEST" "${amd% *}" "${amd#* }" "$OCI_MANIFEST" "${arm% *}" "${arm#* }" >"$work/index"
    put_manifest "$1" "$2" "$OCI_INDEX" "$work/index"
    echo "sha256:$(sha "$work/index")"
}

start_registry
echo "== a local registry at $reg stands in for docker.io"
seeded() { printf '   %-24s %s\n' "$1" "${2% *}"; }
seeded library/nginx:1.25 "$(push_image library/nginx 1.25 nginx-1.25)"
seeded library/nginx:latest "$(push_index library/nginx latest nginx-latest)"
seeded library/redis:7 "$(push_image library/redis 7 redis-7)"
seeded library/redis:latest "$(push_index library/redis latest redis-latest)"
seeded library/postgres:16 "$(push_image library/postgres 16 postgres-16)"

# ---- imagepin over a copy of examples/quickstart/ ---------------------------------
tree="$work/quickstart"
cp -R "$root/examples/quickstart" "$tree"
cd "$tree"
mirror="docker.io=$reg"
status=0
run() {
    printf '\n$ imagepin %s\n' "$*"
    if "$imagepin" "$@"; then status=0; else status=$?; echo "(exit code $status)"; fi
}
run check # unpinned references: exit code 1
run fix --diff --mirror "$mirror"
run fix --mirror "$mirror"
run check
final=$status

printf '\n== the files after imagepin fix\n'
find . -type f | sort | while read -r file; do
    printf -- '--- %s\n' "${file#./}"
    cat "$file"
done
exit "$final"
