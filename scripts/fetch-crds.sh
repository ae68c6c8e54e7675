#!/usr/bin/env bash
# Fetches the upstream CRD releases the manifests are validated against into .crds/ (ignored
# by git), for a checkout with no CRD folder beside it. Each file comes from its project's
# release tag and must match the checksum recorded here, so the tests validate against exactly
# the releases docs/crds.md names. A version bump edits the table below and that page.
set -euo pipefail
cd "$(dirname "$0")/.."

gateway_api=https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/v1.4.0/config/crd/standard
agentgateway=https://raw.githubusercontent.com/agentgateway/agentgateway/v1.4.1/controller/install/helm/agentgateway-crds/templates
kagent=https://raw.githubusercontent.com/kagent-dev/kagent/v0.9.12/helm/kagent-crds/templates

# folder, URL, sha256 of the released file
files=(
  "gateway-api-v1.4.0 $gateway_api/gateway.networking.k8s.io_gatewayclasses.yaml 2f61e8c8c2289843a61d7b1bba31f8a5a46dbf20a1c54359209d638d3bd899c9"
  "gateway-api-v1.4.0 $gateway_api/gateway.networking.k8s.io_gateways.yaml b0e29566bbe07fbe4ede55c2eff73865bd566f3063736ec9046224d7e20d6f88"
  "gateway-api-v1.4.0 $gateway_api/gateway.networking.k8s.io_grpcroutes.yaml dc114a794b2bf2565489c3182d4b173590ea01348f986daf42c7bc0505521d26"
  "gateway-api-v1.4.0 $gateway_api/gateway.networking.k8s.io_httproutes.yaml c2539410dec72b793ef840f484c19d13b48210074ec801b730e9fce2c5fc825c"
  "gateway-api-v1.4.0 $gateway_api/gateway.networking.k8s.io_referencegrants.yaml 3a59dcc699c2d01b19f13233943597f69de25420495ab3d4af7de7997bd807cc"
  "agentgateway-v1.4.1 $agentgateway/agentgateway.dev_agentgatewaybackends.yaml 43ae03190606bf374935a647a11d184fb1431f6bb2bfe409f4d7e299445b8ad5"
  "agentgateway-v1.4.1 $agentgateway/agentgateway.dev_agentgatewayparameters.yaml 1851ef732ab90f191ee3a758a5a6d6037190f94e8a82161251b055e25a40ffbf"
  "agentgateway-v1.4.1 $agentgateway/agentgateway.dev_agentgatewaypolicies.yaml 8a1b7e156128b2c37970a1bff7c9a23f3cf5880db57e112248887ea9d958a653"
  "kagent-v0.9.12 $kagent/kagent.dev_agents.yaml a2b3839df07a6614cf8ba93df075b373295f3eee0ebafbbcd4d7f01b7a166c32"
  "kagent-v0.9.12 $kagent/kagent.dev_modelconfigs.yaml 56f25259d6f82163d11a5f6eb709ae7412ef74511a0c5422bd5b85b86998e026"
  "kagent-v0.9.12 $kagent/kagent.dev_remotemcpservers.yaml 0101c9b7481fe286b1f0193321113800988dc7c1f105599fff2486750a9d9926"
)

# Everything lands in a staging folder first: .crds/ is replaced only by a complete, verified set.
staging="$(mktemp -d .crds-fetch.XXXXXX)"
trap 'rm -rf "$staging"' EXIT

for entry in "${files[@]}"; do
  read -r release url checksum <<<"$entry"
  target="$staging/$release/${url##*/}"
  mkdir -p "$staging/$release"
  curl --fail --silent --show-error --location --retry 3 --output "$target" "$url"
  actual="$(sha256sum "$target" | cut -d' ' -f1)"
  if [ "$actual" != "$checksum" ]; then
    echo "$url does not match the released file (sha256 $actual, expected $checksum)" >&2
    exit 1
  fi
done

rm -rf .crds
mv "$staging" .crds
trap - EXIT
echo "fetched ${#files[@]} CRD files into .crds/"
