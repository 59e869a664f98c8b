#!/usr/bin/env bash
# Render a kustomize overlay, pin every image to the digest its tag points to now, and
# apply it: the cluster never sees a mutable tag, while the overlay keeps readable ones.
# If any image cannot be resolved, `imagepin fix -` writes nothing and fails, so
# nothing half-pinned is applied (pipefail makes the script fail with it).
#
#     examples/kustomize/deploy.sh examples/kustomize/prod
set -euo pipefail
kustomize build "${1:?usage: deploy.sh KUSTOMIZATION_DIR}" | imagepin fix - | kubectl apply -f -
