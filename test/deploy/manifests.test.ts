import { ApiObject, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { catalogue, needsUserApproval, type CatalogueEntry } from '../../app/catalogue.js';
import { ByoAgent, existingGateway, GatedMcpServer, HitlPlatform, HitlStack } from '../../constructs/index.js';
import { onCrds, schemaValidator, type K8sObject } from '../helpers/schemas.js';
import { find, image, label, only, synth } from './synth.js';

const SNAPSHOT = 'test/deploy/__snapshots__/hitl-gates.k8s.yaml';
const withCrds = onCrds(test);

/** The first differing line with a few lines around it, marked - (snapshot) and + (now). */
function firstDifference(expected: string, actual: string): string {
  const want = expected.split('\n');
  const got = actual.split('\n');
  const at = want.findIndex((line, i) => line !== got[i]);
  const line = at === -1 ? want.length : at;
  const around = (lines: string[], mark: string) => lines.slice(Math.max(0, line - 3), line + 4).map((l, i) => `${Math.max(0, line - 3) + i + 1 === line + 1 ? mark : ' '} ${l}`);
  return [`first difference at line ${line + 1}:`, 'snapshot:', ...around(want, '-'), 'now:', ...around(got, '+')].join('\n');
}

test('the synthesized manifests match the snapshot', () => {
  const yaml = synth().map((o) => stringify(o)).join('---\n');
  if (!existsSync(SNAPSHOT) || process.env.UPDATE_SNAPSHOTS === '1') {
    if (process.env.CI === 'true' && !existsSync(SNAPSHOT)) assert.unreachable(`${SNAPSHOT} is missing; run the tests once locally and commit it`);
    mkdirSync('test/deploy/__snapshots__', { recursive: true });
    writeFileSync(SNAPSHOT, yaml);
  }
  const expected = readFileSync(SNAPSHOT, 'utf8');
  if (yaml !== expected) {
    assert.unreachable(`manifests differ from ${SNAPSHOT}; run with UPDATE_SNAPSHOTS=1 if the change is intended\n${firstDifference(expected, yaml)}`);
  }
});

withCrds('every object is valid against its upstream CRD or the Kubernetes schema', () => {
  const validate = schemaValidator();
  const problems = synth().flatMap((o) => validate(o).map((p) => `${label(o)}: ${p}`));
  assert.equal(problems, []);
});

withCrds('the validator itself reports the object and the path of a mistake', () => {
  const validate = schemaValidator();
  const policy = only(synth(), 'AgentgatewayPolicy');
  const broken = structuredClone(policy);
  broken.spec.traffic.extAuth.failureMode = 'FailSometimes';
  const problems = validate(broken);
  assert.ok(problems.some((p) => p.includes('/spec/traffic/extAuth/failureMode')), problems.join('\n'));

  const deployment = structuredClone(find(synth(), 'Deployment')[0]);
  deployment.spec.replicas = 'two';
  const coreProblems = validate(deployment);
  assert.ok(coreProblems.some((p) => p.includes('/spec/replicas')), coreProblems.join('\n'));
});

test('the gate policy targets exactly the privileged route, fails closed, forwards the body, caches nothing', () => {
  const objects = synth();
  const policy = only(objects, 'AgentgatewayPolicy');
  assert.equal(policy.spec.targetRefs, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'ops-tools-privileged' }]);
  const route = only(objects, 'HTTPRoute', 'ops-tools-privileged');
  assert.equal(route.spec.rules[0].matches, [{ path: { type: 'Exact', value: '/privileged/mcp' } }]);
  assert.equal(route.spec.rules[0].filters, [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['x-hitl-approval-id', 'x-hitl-approved-by'] } }]);
  const open = only(objects, 'HTTPRoute', 'ops-tools-public');
  assert.equal(open.spec.rules[0].matches, [{ path: { type: 'Exact', value: '/public/mcp' } }]);
  assert.equal(open.spec.rules[0].filters[0].requestHeaderModifier.remove, ['x-hitl-approval', 'x-hitl-traceparent', 'x-hitl-approval-id', 'x-hitl-approved-by']);
  const deployment = (name: string) => only(objects, 'Deployment', name).spec.template.spec;
  const mounts = (name: string) => deployment(name).volumes.map((v: any) => v.secret?.secretName).filter(Boolean);
  assert.ok(mounts('hitl-ext-auth').includes('hitl-approval-key') && !mounts('hitl-ext-auth').includes('hitl-approval-verify-key'), 'only ext-auth holds the private key');
  assert.equal(mounts('ops-tools'), ['hitl-approval-verify-key', 'hitl-user-approval-verify-key'], 'the MCP server holds only public keys');
  const extAuth = policy.spec.traffic.extAuth;
  assert.is(extAuth.failureMode, 'FailClosed');
  assert.ok(extAuth.forwardBody.maxSize >= 16 * 1024);
  assert.is(extAuth.cache, undefined);
  assert.equal(extAuth.grpc.contextExtensions, { gate: 'platform', approvals: '1', 'reviewer-group': 'platform' });
  assert.equal(extAuth.backendRef, { name: 'hitl-ext-auth-grpc', namespace: 'hitl', port: 9001 });
  const grant = only(objects, 'ReferenceGrant');
  assert.is(grant.metadata.namespace, 'hitl');
  assert.equal(grant.spec.from, [{ group: 'agentgateway.dev', kind: 'AgentgatewayPolicy', namespace: 'ops-tools' }]);
  assert.equal(grant.spec.to, [{ group: '', kind: 'Service', name: 'hitl-ext-auth-grpc' }]);
  assert.is(find(objects, 'AgentgatewayPolicy').filter((p) => p.spec.traffic.extAuth.cache).length, 0, 'no policy caches');
});

test('requireApproval is the catalogue user tier; the chat user id is forwarded to every server', () => {
  const agent = only(synth(), 'Agent', 'dba-assistant');
  const tools = agent.spec.declarative.tools.map((t: any) => t.mcpServer);
  const requireApproval = tools.flatMap((t: any) => t.requireApproval ?? []).sort();
  assert.equal(requireApproval, catalogue.filter((t) => needsUserApproval(t.tier)).map((t) => t.name).sort());
  assert.equal(tools.flatMap((t: any) => t.toolNames).sort(), catalogue.map((t) => t.name).sort(), 'every catalogue tool is offered');
  for (const tool of tools) {
    assert.equal(tool.allowedHeaders, ['x-user-id']);
    // The CRD's CEL rule, which the schema validator cannot evaluate.
    for (const name of tool.requireApproval ?? []) assert.ok(tool.toolNames.includes(name), `${name} is one of ${tool.name}'s toolNames`);
  }
});

test('every workload is hardened, probed, bounded, and its probes and routes name ports that exist', () => {
  const objects = synth();
  const services = find(objects, 'Service');
  for (const deployment of find(objects, 'Deployment')) {
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    const ports = container.ports.map((p: any) => p.name);
    assert.is(pod.securityContext.runAsNonRoot, true, label(deployment));
    assert.type(pod.securityContext.runAsUser, 'number', `${label(deployment)}: the image's user is a name, so runAsNonRoot needs a numeric runAsUser`);
    assert.is(container.securityContext.readOnlyRootFilesystem, true, label(deployment));
    assert.is(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.capabilities.drop, ['ALL']);
    assert.ok(container.resources.requests && container.resources.limits, `${label(deployment)} has requests and limits`);
    assert.is(container.readinessProbe.httpGet.path, '/readyz');
    assert.is(container.livenessProbe.httpGet.path, '/healthz');
    assert.ok(ports.includes(container.readinessProbe.httpGet.port), `${label(deployment)} probe port exists`);
    const writable = (container.volumeMounts ?? []).filter((m: any) => !m.readOnly).map((m: any) => m.mountPath);
    assert.ok(writable.every((path: string) => path === '/data'), `${label(deployment)} writes only where data lives`);
    const own = services.filter((s) => s.metadata.namespace === deployment.metadata.namespace && JSON.stringify(s.spec.selector) === JSON.stringify(deployment.spec.selector.matchLabels));
    assert.ok(own.length > 0, `${label(deployment)} has a Service`);
    for (const service of own) {
      for (const port of service.spec.ports) assert.ok(ports.includes(port.targetPort), `${label(service)} targets ${port.targetPort}`);
    }
  }
  for (const route of find(objects, 'HTTPRoute')) {
    for (const ref of route.spec.rules.flatMap((r: any) => r.backendRefs)) {
      const service = services.find((s) => s.metadata.name === ref.name && s.metadata.namespace === route.metadata.namespace);
      assert.ok(service?.spec.ports.some((p: any) => p.port === ref.port), `${label(route)} → ${ref.name}:${ref.port} exists`);
    }
  }
  assert.equal(only(objects, 'Service', 'hitl-ext-auth-grpc').spec.ports.map((p: any) => [p.port, p.appProtocol]), [[9001, 'kubernetes.io/h2c']]);
  assert.equal(only(objects, 'Service', 'hitl-ext-auth-admin').spec.ports.map((p: any) => p.port), [8081]);
});

test('the BYO agent is hardened too, within what kagent lets an Agent set', () => {
  const byo = only(synth(), 'Agent', 'dba-assistant-langgraph').spec.byo.deployment;
  assert.is(byo.podSecurityContext.runAsNonRoot, true);
  assert.type(byo.podSecurityContext.runAsUser, 'number');
  assert.equal(byo.securityContext, { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  assert.ok(byo.resources.requests && byo.resources.limits);
  assert.equal(byo.volumeMounts.filter((m: any) => !m.readOnly), [{ name: 'data', mountPath: '/data' }], 'writes only where its data lives');
  // Its approval key: the private half, read-only, in this agent alone.
  const keyMount = byo.volumeMounts.find((m: any) => m.name === 'approval-key');
  assert.equal(keyMount, { name: 'approval-key', mountPath: '/keys', readOnly: true });
  const keyVolume = byo.volumes.find((v: any) => v.name === 'approval-key');
  assert.is(keyVolume.secret.secretName, 'hitl-user-approval-key');
  assert.ok(byo.args.join(' ').includes(`--approval-key /keys/${keyVolume.secret.items[0].path}`));
  const otherMounts = synth()
    .filter((o: any) => o.kind === 'Deployment')
    .flatMap((o: any) => o.spec.template.spec.volumes ?? [])
    .filter((v: any) => v.secret?.secretName === 'hitl-user-approval-key');
  assert.equal(otherMounts, [], 'no other workload mounts the private key');
});

test('network policies: only the gateway reaches the MCP server and the gRPC port, only the UI the admin API', () => {
  const objects = synth();
  const gatewayPods = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agentgateway-system' } },
    podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'agentgateway' } },
  };
  const uiPods = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'hitl' } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'hitl-ui', 'app.kubernetes.io/part-of': 'hitl-gates' } },
  };
  const extAuth = only(objects, 'NetworkPolicy', 'hitl-ext-auth-ingress');
  const rule = (port: number) => extAuth.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === port));
  assert.equal(rule(9001).from, [gatewayPods]);
  assert.equal(rule(8081).from, [uiPods]);
  const mcp = only(objects, 'NetworkPolicy', 'ops-tools-ingress');
  assert.equal(mcp.spec.ingress.flatMap((r: any) => r.from), [gatewayPods, uiPods], 'the gateway, and the UI for migration plans');
  for (const policy of find(objects, 'NetworkPolicy')) assert.equal(policy.spec.policyTypes, ['Ingress'], `${label(policy)} denies what it does not list`);
});

test('a bring-your-own Gateway is used instead of creating one', () => {
  const objects = synth({ gateway: { name: 'shared', namespace: 'edge' } });
  assert.is(find(objects, 'Gateway').length, 0);
  for (const route of find(objects, 'HTTPRoute')) assert.equal(route.spec.parentRefs, [{ name: 'shared', namespace: 'edge' }]);
  assert.ok(find(objects, 'RemoteMCPServer').every((r) => r.spec.url.startsWith('http://shared.edge.svc.cluster.local/')));
});

/** The stack with a second MCP server, billing, whose one tool needs two finance reviewers. */
function twoServers(): K8sObject[] {
  const stack = new HitlStack(Testing.app(), 'two', { image });
  const billingTools: CatalogueEntry[] = [
    { name: 'refund_order', title: 'Refund', tier: 'both', description: 'Refund an order.', annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false } },
  ];
  new GatedMcpServer(stack, 'billing', { image, name: 'billing', namespace: 'billing', tools: billingTools, gate: stack.platform, approvalRule: { approvals: 2, reviewerGroup: 'finance' } });
  return Testing.synth(stack) as K8sObject[];
}

test('a second MCP server with its own gated tier is a few typed lines', () => {
  const objects = twoServers();
  const policy = find(objects, 'AgentgatewayPolicy').find((p) => p.metadata.namespace === 'billing')!;
  assert.equal(policy.spec.traffic.extAuth.grpc.contextExtensions, { gate: 'platform', approvals: '2', 'reviewer-group': 'finance' });
  assert.is(find(objects, 'HTTPRoute').filter((r) => r.metadata.namespace === 'billing').length, 1, 'no public route without public tools');
});

withCrds("the second MCP server's objects are valid against their upstream CRDs too", () => {
  const validate = schemaValidator();
  const billing = twoServers().filter((o) => o.metadata.namespace === 'billing');
  assert.ok(billing.some((o) => o.kind === 'AgentgatewayPolicy'), 'the billing gate policy is among them');
  assert.equal(billing.flatMap((o) => validate(o).map((p) => `${label(o)}: ${p}`)), []);
});

test('configuration mistakes are reported at synth time', () => {
  const gateway = existingGateway('gw', 'edge');
  const platform = (props: Partial<ConstructorParameters<typeof HitlPlatform>[2]> = {}) =>
    new HitlPlatform(Testing.chart(), 'p', { image, gateway, reviewerTokens: { secretName: 't' }, sessionSecret: { name: 's', key: 'k' }, approvalKeys: { privateKeySecret: 'ak', publicKeySecret: 'av' }, ...props });

  assert.throws(() => new GatedMcpServer(Testing.chart(), 'm', { image, gateway }), /run_migration need a platform reviewer, but no gate/);
  assert.throws(() => platform({ extAuthReplicas: 3 }), /3 ext-auth replicas need databaseUrl/);
  assert.not.throws(() => platform({ extAuthReplicas: 3, databaseUrl: { name: 'db', key: 'url' } }));
  assert.throws(
    () => new GatedMcpServer(Testing.chart(), 'm', { image, gate: platform({ parkTimeout: Duration.minutes(10) }), remoteTimeout: Duration.minutes(5) }),
    /remoteTimeout 300s must be longer than the park timeout 600s/,
  );
  assert.throws(
    () => new ByoAgent(Testing.chart(), 'a', { image, gateway, gate: platform(), toolTimeout: Duration.minutes(10) }),
    /ByoAgent dba-assistant-langgraph: toolTimeout 600s must be longer than the park timeout 600s/,
  );
  assert.throws(() => new GatedMcpServer(Testing.chart(), 'm', { image, gate: platform(), maxBodySize: Size.kibibytes(4) }), /maxBodySize 4 KiB is below the 16 KiB minimum/);

  // An escape hatch is still caught: the platform checks every policy in the app at synth.
  const app = Testing.app();
  const stack = new HitlStack(app, 'cached', { image });
  ApiObject.of(stack.opsTools.policy!).addJsonPatch(JsonPatch.add('/spec/traffic/extAuth/cache', { key: ['request.path'], ttl: '5m' }));
  assert.throws(() => app.synthYaml(), /caches decisions of the human gate hitl-ext-auth/);

  // kagent v0.9.12 cuts an A2A chat turn at 3 minutes: a declarative agent needs a shorter hold.
  const longHold = Testing.app();
  new HitlStack(longHold, 'long-hold', { image, holdFor: Duration.seconds(180) });
  assert.throws(() => longHold.synthYaml(), /holdFor 180s must be under 180s: kagent's A2A proxy cuts a chat turn after 3 minutes, so the declarative Agent kagent\/dba-assistant/);
  const shortHold = Testing.app();
  new HitlStack(shortHold, 'short-hold', { image, holdFor: Duration.seconds(179) });
  assert.not.throws(() => shortHold.synthYaml());
  const lone = Testing.app();
  const loneChart = new Chart(lone, 'lone');
  const lonePlatform = new HitlPlatform(loneChart, 'p', { image, gateway, reviewerTokens: { secretName: 't' }, sessionSecret: { name: 's', key: 'k' }, approvalKeys: { privateKeySecret: 'ak', publicKeySecret: 'av' }, holdFor: Duration.minutes(5) });
  lonePlatform.addReviewerUi(new GatedMcpServer(loneChart, 'm', { image, gate: lonePlatform }));
  assert.not.throws(() => lone.synthYaml(), 'no declarative agent, no limit');

  // The UI's plan source is wired by the one who builds the system, never guessed.
  const unwired = Testing.app();
  new HitlPlatform(new Chart(unwired, 'unwired'), 'p', { image, gateway, reviewerTokens: { secretName: 't' }, sessionSecret: { name: 's', key: 'k' }, approvalKeys: { privateKeySecret: 'ak', publicKeySecret: 'av' } });
  assert.throws(() => unwired.synthYaml(), /HitlPlatform p: no reviewer UI, so no reviewer can decide; add one with platform\.addReviewerUi\(mcpServer\)/);
  const twice = new HitlStack(Testing.app(), 'twice', { image });
  assert.throws(() => twice.platform.addReviewerUi(twice.opsTools), /the reviewer UI already reads migration plans from http:\/\/ops-tools\.ops-tools\.svc\.cluster\.local:8080; it reads from one MCP server/);
});

test('the cluster scripts are shellcheck-clean', () => {
  for (const script of ['scripts/kind-up.sh', 'scripts/kind-down.sh', 'scripts/import.sh', 'scripts/fetch-crds.sh']) {
    execFileSync('shellcheck', [script], { stdio: 'pipe' });
  }
});

test.run();
