#!/usr/bin/env bash
# Regenerates imports/ (typed classes for the upstream CRDs) with `cdk8s import`, from the
# released CRD files wherever scripts/crd-folder.mjs finds them ($HITL_CRDS, shared/crds beside
# the checkout, or .crds/ filled by `npm run crds`). The generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

# On failure it has already said where it looked.
crds="$(node scripts/crd-folder.mjs)"
echo "importing the CRDs in $crds"

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
