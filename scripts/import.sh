#!/usr/bin/env bash
# Regenerates imports/ (typed classes for the upstream CRDs) with `cdk8s import`, from the
# released CRD files in ../shared/crds (or $HITL_CRDS). The generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

crds="${HITL_CRDS:-../shared/crds}"
if [ ! -d "$crds" ]; then
  echo "no CRDs at $crds: set HITL_CRDS to the folder holding the upstream CRD releases" >&2
  exit 1
fi

specs=(
  "gateway:=gateway-api-v1.4.0/gateway.networking.k8s.io_gateways.yaml"
  "httproute:=gateway-api-v1.4.0/gateway.networking.k8s.io_httproutes.yaml"
  "referencegrant:=gateway-api-v1.4.0/gateway.networking.k8s.io_referencegrants.yaml"
  "agentgatewaypolicy:=agentgateway-v1.4.1/agentgateway.dev_agentgatewaypolicies.yaml"
  "agent:=kagent-v0.9.12/kagent.dev_agents.yaml"
  "remotemcpserver:=kagent-v0.9.12/kagent.dev_remotemcpservers.yaml"
)

rm -rf imports
for spec in "${specs[@]}"; do
  npx --no-install cdk8s import "${spec%%:=*}:=${crds}/${spec#*:=}" --language typescript --output imports --no-save --no-check-upgrade
done
