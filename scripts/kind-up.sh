#!/usr/bin/env bash
# Brings the whole system up on a local kind cluster: Gateway API, agentgateway, kagent, then
# this project's manifests. Safe to run again: every step skips or updates what is there, and
# a rebuilt image gets a new tag, so changed code rolls out.
#
#   ANTHROPIC_API_KEY=sk-ant-… scripts/kind-up.sh
#
# Without the key the BYO agent runs its offline model; the declarative agent needs the key.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${HITL_CLUSTER:-hitl}"
IMAGE_REPO="${HITL_IMAGE_REPO:-hitl-gates}"
GATEWAY_API_VERSION="v1.4.0"
AGENTGATEWAY_VERSION="v1.4.1"
KAGENT_VERSION="0.9.12"
CONTEXT="kind-${CLUSTER}"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "kind-up: $1 is required" >&2; exit 1; }
}
for tool in docker kind kubectl helm npm node openssl; do need "$tool"; done

step() { printf '\n==> %s\n' "$*"; }
kube() { kubectl --context "${CONTEXT}" "$@"; }
release() { helm --kube-context "${CONTEXT}" upgrade --install "$@"; }

# A Secret from stdin, so its value never appears in a process list or in Helm's values.
secret_from_stdin() {
  local namespace="$1" name="$2" key="$3"
  kube -n "${namespace}" create secret generic "${name}" --from-file="${key}=/dev/stdin" \
    --dry-run=client -o yaml | kube apply -f -
}

step "kind cluster ${CLUSTER}"
if ! kind get clusters | grep -qx "${CLUSTER}"; then
  kind create cluster --name "${CLUSTER}" --wait 120s
fi

step "Gateway API ${GATEWAY_API_VERSION} (standard channel)"
kube apply --server-side -f "https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml"

step "agentgateway ${AGENTGATEWAY_VERSION}"
release agentgateway-crds oci://cr.agentgateway.dev/charts/agentgateway-crds \
  --version "${AGENTGATEWAY_VERSION}" --namespace agentgateway-system --create-namespace --wait
release agentgateway oci://cr.agentgateway.dev/charts/agentgateway \
  --version "${AGENTGATEWAY_VERSION}" --namespace agentgateway-system --wait

step "kagent ${KAGENT_VERSION}"
release kagent-crds oci://ghcr.io/kagent-dev/kagent/helm/kagent-crds \
  --version "${KAGENT_VERSION}" --namespace kagent --create-namespace --wait
# The chart's default ModelConfig reads the key from kagent-anthropic; the BYO agent does too.
if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  printf '%s' "${ANTHROPIC_API_KEY}" | secret_from_stdin kagent kagent-anthropic ANTHROPIC_API_KEY
fi
# The bundled sample agents and their tool servers are not part of this story; on a laptop
# they cost more memory than everything else together.
sample_agents=(k8s-agent kgateway-agent istio-agent promql-agent observability-agent argo-rollouts-agent
  helm-agent cilium-policy-agent cilium-manager-agent cilium-debug-agent grafana-mcp querydoc)
kagent_values=(--set providers.default=anthropic)
for chart in "${sample_agents[@]}"; do kagent_values+=(--set "${chart}.enabled=false"); done
release kagent oci://ghcr.io/kagent-dev/kagent/helm/kagent \
  --version "${KAGENT_VERSION}" --namespace kagent "${kagent_values[@]}" --wait --timeout 10m

step "image"
docker build -t "${IMAGE_REPO}:dev" .
# Tagged by content: the manifests change when the image does, so Deployments roll.
image_id="$(docker image inspect --format '{{.Id}}' "${IMAGE_REPO}:dev")"
image_id="${image_id#sha256:}"
IMAGE="${IMAGE_REPO}:${image_id:0:12}"
docker tag "${IMAGE_REPO}:dev" "${IMAGE}"
kind load docker-image "${IMAGE}" --name "${CLUSTER}"

step "secrets the manifests refer to (made once, kept on later runs)"
kube create namespace hitl --dry-run=client -o yaml | kube apply -f -
if ! kube -n hitl get secret hitl-reviewer-tokens >/dev/null 2>&1; then
  token="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  digest="$(printf '%s' "${token}" | sha256sum | cut -d' ' -f1)"
  printf '[{"name":"platform-reviewer","groups":["platform"],"sha256":"%s"}]' "${digest}" |
    secret_from_stdin hitl hitl-reviewer-tokens tokens.json
  mkdir -p .hitl
  (umask 077 && printf '%s\n' "${token}" >.hitl/cluster-reviewer-token)
  echo "reviewer token written to .hitl/cluster-reviewer-token"
fi
if ! kube -n hitl get secret hitl-ui-session >/dev/null 2>&1; then
  head -c 32 /dev/urandom | base64 | tr -d '\n' | secret_from_stdin hitl hitl-ui-session secret
fi
# The approval key pair: the private key only ever exists in ext-auth's Secret; the MCP
# server's Secret holds the public key, derived from it on every run.
if ! kube -n hitl get secret hitl-approval-key >/dev/null 2>&1; then
  openssl genpkey -algorithm ed25519 | secret_from_stdin hitl hitl-approval-key approval.key
fi
kube create namespace ops-tools --dry-run=client -o yaml | kube apply -f -
kube -n hitl get secret hitl-approval-key -o jsonpath='{.data.approval\.key}' | base64 -d | openssl pkey -pubout |
  secret_from_stdin ops-tools hitl-approval-verify-key approval.pub
# The BYO agent signs each call its user approved; the MCP server verifies with the public half.
# Made as a pair, so both are remade when either is missing.
if ! kube -n kagent get secret hitl-user-approval-key >/dev/null 2>&1 ||
  ! kube -n ops-tools get secret hitl-user-approval-verify-key >/dev/null 2>&1; then
  pair="$(node -e "const k = require('node:crypto').generateKeyPairSync('ed25519');
    process.stdout.write(JSON.stringify([k.privateKey.export({ type: 'pkcs8', format: 'pem' }), k.publicKey.export({ type: 'spki', format: 'pem' })]))")"
  kube create namespace ops-tools --dry-run=client -o yaml | kube apply -f -
  printf '%s' "${pair}" | node -e "process.stdout.write(JSON.parse(require('node:fs').readFileSync(0, 'utf8'))[0])" |
    secret_from_stdin kagent hitl-user-approval-key private.pem
  printf '%s' "${pair}" | node -e "process.stdout.write(JSON.parse(require('node:fs').readFileSync(0, 'utf8'))[1])" |
    secret_from_stdin ops-tools hitl-user-approval-verify-key public.pem
  unset pair
fi

step "synthesize and apply (${IMAGE})"
HITL_IMAGE="${IMAGE}" npm run --silent synth
kube apply -f dist/

step "wait for readiness"
kube -n agentgateway-system wait --for=condition=Programmed gateway/agentgateway --timeout 180s
kube -n hitl wait --for=condition=Available deployment --all --timeout 180s
kube -n ops-tools wait --for=condition=Available deployment --all --timeout 180s
kube -n kagent wait --for=condition=Ready agent/dba-assistant-langgraph --timeout 300s
if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  kube -n kagent wait --for=condition=Ready agent/dba-assistant --timeout 300s
else
  echo "ANTHROPIC_API_KEY is not set: the declarative agent dba-assistant stays unready without a model key"
fi

step "port-forwards (Ctrl-C to stop)"
trap 'kill $(jobs -p) 2>/dev/null' EXIT
kube -n hitl port-forward svc/hitl-ui 8090:8090 &
kube -n kagent port-forward svc/kagent-ui 8082:8080 &
echo "  reviewer queue   http://127.0.0.1:8090   (token in .hitl/cluster-reviewer-token)"
echo "  kagent chat      http://127.0.0.1:8082"
wait
