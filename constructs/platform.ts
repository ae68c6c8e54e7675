import { ApiObject, Duration, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { GatedMcpServer } from './gated-mcp-server.js';
import { fromGateway, type GatewayRef } from './gateway.js';
import { extAuthFlags } from '../app/ext-auth/flags.js';
import type { FlagValues } from '../app/shared/flags.js';
import { argv, listeningPorts } from '../app/shared/invocation.js';
import { uiFlags } from '../app/ui/flags.js';
import { fromWorkload, HitlWorkload, workloadPorts, type HitlImage, type SecretKeyRef } from './workload.js';

export interface HitlPlatformProps {
  readonly image: HitlImage;
  /** The gateway whose ext_authz calls reach the gate. */
  readonly gateway: GatewayRef;
  /** Namespace for ext-auth and the UI. Default `hitl`. */
  readonly namespace?: string;
  /** How long a parked call waits for reviewers before it is denied. Default 10 minutes. */
  readonly parkTimeout?: Duration;
  /**
   * How long the gateway holds one call before answering that it waits for a platform reviewer
   * (the request stays queued; the same call made again after approval runs). Default 150 s:
   * kagent v0.9.12 cuts an A2A chat turn after 3 minutes, so with a declarative Agent in the
   * chart it must stay under 180 s.
   */
  readonly holdFor?: Duration;
  /** Secret holding the reviewers' tokens file (`[{name, groups, sha256}]`) under key `tokens.json`. */
  readonly reviewerTokens: { secretName: string };
  /** Secret key sealing UI session cookies, shared by UI replicas. */
  readonly sessionSecret: SecretKeyRef;
  /**
   * The approval key pair (Ed25519, PEM). `privateKeySecret`, in the platform's namespace with
   * key `approval.key`, is mounted into ext-auth alone, which signs every approval with it;
   * `publicKeySecret`, with key `approval.pub`, must exist in each gated MCP server's
   * namespace under that name, and is mounted into the MCP server alone, which verifies.
   */
  readonly approvalKeys: { privateKeySecret: string; publicKeySecret: string };
  /** PostgreSQL URL for requests and audit; required for more than one ext-auth replica. */
  readonly databaseUrl?: SecretKeyRef;
  readonly extAuthReplicas?: number;
  readonly uiReplicas?: number;
}

/** kagent v0.9.12's fixed timeout on the A2A requests its controller proxies to agents. */
const KAGENT_A2A_TIMEOUT_SECONDS = 180;

/**
 * The human gate's platform side: `hitl ext-auth` (gRPC for the gateway, admin API for the
 * UI) and, once `addReviewerUi` names the MCP server whose migration plans it shows, `hitl ui`;
 * each reachable only by who needs it.
 */
export class HitlPlatform extends Construct {
  readonly namespace: string;
  readonly parkTimeout: Duration;
  readonly holdFor: Duration;
  readonly extAuth: HitlWorkload<'grpc' | 'admin'>;
  readonly gateway: GatewayRef;
  /** Name of the Secret (key `approval.pub`) each gated MCP server mounts to verify approvals. */
  readonly approvalPublicKeySecret: string;
  private readonly props: HitlPlatformProps;
  /** The MCP server whose migration plans the reviewer UI shows, once addReviewerUi made the UI. */
  private uiPlansFrom?: GatedMcpServer;

  constructor(scope: Construct, id: string, props: HitlPlatformProps) {
    super(scope, id);
    this.props = props;
    this.namespace = props.namespace ?? 'hitl';
    this.parkTimeout = props.parkTimeout ?? Duration.minutes(10);
    this.holdFor = props.holdFor ?? Duration.seconds(150);
    this.gateway = props.gateway;
    this.approvalPublicKeySecret = props.approvalKeys.publicKeySecret;
    const replicas = props.extAuthReplicas ?? 1;
    if (replicas > 1 && !props.databaseUrl) {
      throw new Error(`HitlPlatform: ${replicas} ext-auth replicas need databaseUrl (PostgreSQL); the embedded store belongs to one process`);
    }

    new k8s.KubeNamespace(this, 'namespace', { metadata: { name: this.namespace } });

    const extAuthArgs: Partial<FlagValues<typeof extAuthFlags>> = {
      grpcPort: extAuthFlags.grpcPort.default,
      adminPort: extAuthFlags.adminPort.default,
      parkTimeout: this.parkTimeout.toMilliseconds(),
      hold: this.holdFor.toMilliseconds(),
      tokensFile: '/etc/hitl/reviewers/tokens.json',
      approvalKey: '/etc/hitl/approval-key/approval.key',
      dataDir: props.databaseUrl ? undefined : '/data',
    };

    this.extAuth = new HitlWorkload(this, 'ext-auth', {
      namespace: this.namespace,
      name: 'hitl-ext-auth',
      image: props.image,
      args: ['ext-auth', ...argv(extAuthFlags, extAuthArgs)],
      ports: workloadPorts(listeningPorts(extAuthFlags, extAuthArgs), {
        grpc: { appProtocol: 'kubernetes.io/h2c', service: 'grpc' },
        admin: { service: 'admin' },
      }),
      healthPort: 'admin',
      replicas,
      secretEnv: props.databaseUrl ? { HITL_DATABASE_URL: props.databaseUrl } : undefined,
      secretFiles: [
        { secretName: props.reviewerTokens.secretName, mountPath: '/etc/hitl/reviewers' },
        { secretName: props.approvalKeys.privateKeySecret, mountPath: '/etc/hitl/approval-key' },
      ],
      data: props.databaseUrl ? undefined : { mountPath: '/data', size: Size.gibibytes(1) },
    });

    this.node.addValidation({ validate: () => [...this.cachedDecisions(), ...this.holdPastKagentTimeout(), ...this.missingReviewerUi()] });

    this.extAuth.allowFrom(fromGateway(props.gateway), this.extAuth.ports.grpc);
  }

  /**
   * Adds `hitl ui`, the reviewers' web queue, showing the migration plans (the SQL a
   * run_migration would run) of `plansFrom`, whose server admits the UI for them. A method
   * rather than a prop because that server is made after the platform, its gate. One UI,
   * reading from one MCP server: a second call is a wiring mistake.
   */
  addReviewerUi(plansFrom: GatedMcpServer): HitlWorkload<'http'> {
    if (this.uiPlansFrom) {
      throw new Error(`HitlPlatform ${this.node.id}: the reviewer UI already reads migration plans from ${this.uiPlansFrom.server.ports.http.url}; it reads from one MCP server`);
    }
    const plans = plansFrom.server.ports.http;
    const uiArgs: Partial<FlagValues<typeof uiFlags>> = { port: uiFlags.port.default, extAuthUrl: this.extAuth.ports.admin.url, mcpUrl: plans.url };
    const ui = new HitlWorkload(this, 'ui', {
      namespace: this.namespace,
      name: 'hitl-ui',
      image: this.props.image,
      args: ['ui', ...argv(uiFlags, uiArgs)],
      ports: workloadPorts(listeningPorts(uiFlags, uiArgs)),
      healthPort: 'http',
      replicas: this.props.uiReplicas ?? 1,
      secretEnv: { HITL_SESSION_SECRET: this.props.sessionSecret },
    });
    this.uiPlansFrom = plansFrom;
    this.extAuth.allowFrom(fromWorkload(ui), this.extAuth.ports.admin);
    plans.workload.allowFrom(fromWorkload(ui), plans);
    return ui;
  }

  /** The gRPC backend an AgentgatewayPolicy's extAuth points at. */
  get extAuthBackend(): { name: string; namespace: string; port: number } {
    const { grpc } = this.extAuth.ports;
    return { name: grpc.serviceName, namespace: this.namespace, port: grpc.number };
  }

  /**
   * Policies anywhere in the app that send calls to this gate must not cache its answers: a
   * cached approval would let the next call through without a human.
   */
  private cachedDecisions(): string[] {
    return this.node.root.node
      .findAll()
      .filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'AgentgatewayPolicy')
      .filter((policy) => {
        const extAuth = policy.toJson().spec?.traffic?.extAuth;
        return extAuth?.backendRef?.name === this.extAuth.ports.grpc.serviceName && extAuth.cache !== undefined;
      })
      .map((policy) => `AgentgatewayPolicy ${policy.metadata.namespace}/${policy.name} caches decisions of the human gate ${this.extAuth.name}; remove spec.traffic.extAuth.cache`);
  }

  /**
   * kagent v0.9.12's controller proxies every A2A request with a fixed 3-minute HTTP timeout: a
   * declarative agent's chat turn held longer at the gateway is cut before the gate answers.
   */
  private holdPastKagentTimeout(): string[] {
    const hold = this.holdFor.toSeconds();
    if (hold < KAGENT_A2A_TIMEOUT_SECONDS) return [];
    return this.node.root.node
      .findAll()
      .filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'Agent' && c.toJson().spec?.type === 'Declarative')
      .map(
        (agent) =>
          `HitlPlatform ${this.node.id}: holdFor ${hold}s must be under ${KAGENT_A2A_TIMEOUT_SECONDS}s: kagent's A2A proxy cuts a chat turn after 3 minutes, ` +
          `so the declarative Agent ${agent.metadata.namespace}/${agent.name} would lose the call before the gate answers; lower holdFor`,
      );
  }

  /**
   * How long an agent waits on a gated tool call: `requested`, or the park timeout plus a
   * minute. A wait no longer than the park timeout gives up before reviewers decide, and the
   * agent reports a failure for a call that may still be approved.
   * @param setting names the construct and its prop in the error, e.g. `ByoAgent x: toolTimeout`
   */
  agentWait(setting: string, requested?: Duration): Duration {
    const park = this.parkTimeout.toSeconds();
    const wait = requested ?? Duration.seconds(park + 60);
    if (wait.toSeconds() <= park) {
      throw new Error(`${setting} ${wait.toSeconds()}s must be longer than the park timeout ${park}s of ${this.extAuth.name}, or agents give up before reviewers decide`);
    }
    return wait;
  }

  /** Only the UI may reach the admin API: without one, no reviewer can decide and every gated call ends denied. */
  private missingReviewerUi(): string[] {
    if (this.uiPlansFrom) return [];
    return [`HitlPlatform ${this.node.id}: no reviewer UI, so no reviewer can decide; add one with platform.addReviewerUi(mcpServer), the MCP server whose migration plans it shows`];
  }
}
