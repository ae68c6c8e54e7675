#!/usr/bin/env bash
# Deletes the kind cluster kind-up.sh made, and everything in it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${HITL_CLUSTER:-hitl}"
command -v kind >/dev/null 2>&1 || { echo "kind-down: kind is required" >&2; exit 1; }

if kind get clusters | grep -qx "${CLUSTER}"; then
  kind delete cluster --name "${CLUSTER}"
else
  echo "no kind cluster named ${CLUSTER}; nothing to do"
fi
# The reviewer token opened a cluster that no longer exists.
rm -f .hitl/cluster-reviewer-token
