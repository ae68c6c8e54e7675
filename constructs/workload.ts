import { ApiObject, Lazy, type Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ListeningPort } from '../app/shared/invocation.js';

/** The one image every workload runs; each Deployment picks its subcommand. */
export interface HitlImage {
  /** e.g. `ghcr.io/acme/hitl-gates:0.1.0`. */
  readonly ref: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export interface WorkloadPort<N extends string = string> {
  readonly name: N;
  readonly port: number;
  /** `kubernetes.io/h2c` for plaintext gRPC, so the gateway speaks HTTP/2 to it. */
  readonly appProtocol?: string;
  /** Put this port on its own Service, `<workload>-<service>`; by default it shares `<workload>`. */
  readonly service?: string;
}

/** The ports a subcommand listens on, as the container and its Services open them, with what Kubernetes needs beyond the number. */
export function workloadPorts<N extends string>(listening: ListeningPort<N>[], details: Partial<Record<N, Omit<WorkloadPort, 'name' | 'port'>>> = {}): WorkloadPort<N>[] {
  return listening.map(({ name, port }) => ({ name, port, ...details[name] }));
}

/** A value read from a Secret rather than written into the manifest. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface HitlWorkloadProps<N extends string> {
  readonly namespace: string;
  readonly name: string;
  readonly image: HitlImage;
  /** `hitl` subcommand and its flags, built from the subcommand's flag spec (`argv`). */
  readonly args: string[];
  readonly ports: WorkloadPort<N>[];
  /** The port serving /healthz and /readyz. */
  readonly healthPort: N;
  readonly replicas?: number;
  /** Environment variables taken from Secrets, e.g. `HITL_DATABASE_URL`. */
  readonly secretEnv?: Record<string, SecretKeyRef>;
  /** A Secret mounted read-only at a path (the reviewer tokens file, for one). */
  readonly secretFiles?: { secretName: string; mountPath: string }[];
  /** Where the service keeps data: the only writable path, on a PersistentVolumeClaim. */
  readonly data?: { mountPath: string; size: Size };
  readonly resources?: { cpu: string; memory: string; cpuLimit: string; memoryLimit: string };
}

/**
 * The image's `node` user by number: the image names its user, and the kubelet can only
 * enforce `runAsNonRoot` on a numeric one.
 */
export const NON_ROOT_USER = { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 };

/**
 * The hardening every pod running `hitl` gets, ours and the ones kagent makes for a BYO Agent:
 * the non-root user, the runtime's seccomp profile, a read-only root filesystem, no privilege
 * escalation and no capabilities.
 */
export const HARDENED = {
  pod: { runAsNonRoot: true, ...NON_ROOT_USER, seccompProfile: { type: 'RuntimeDefault' } },
  container: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};

const DEFAULT_RESOURCES = { cpu: '50m', memory: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' };

/** One port of a workload as its peers reach it: through its Service, by name or by URL. */
export class ServicePort {
  constructor(
    readonly workload: HitlWorkload,
    /** The port's name, shared by the container port and the Service port. */
    readonly name: string,
    readonly number: number,
    /** The Service that exposes this port. */
    readonly serviceName: string,
  ) {}

  get host(): string {
    return `${this.serviceName}.${this.workload.namespace}.svc.cluster.local`;
  }

  /** In-cluster URL of this port, through its Service. */
  get url(): string {
    return `http://${this.host}:${this.number}`;
  }
}

/**
 * One `hitl` subcommand as a hardened Deployment and its Service: non-root, read-only root
 * filesystem, every capability dropped, probes on /readyz and /healthz, requests and limits.
 * Its ports are typed by name (`extAuth.ports.admin`), so a peer wires to one by reference.
 */
export class HitlWorkload<N extends string = string> extends Construct {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Record<string, string>;
  readonly ports: Readonly<Record<N, ServicePort>>;
  /** Who may reach which ports; rendered at synth into one NetworkPolicy, made by the first `allowFrom`. */
  private readonly ingress: { ports: ServicePort[]; from: k8s.NetworkPolicyPeer[] }[] = [];

  constructor(scope: Construct, id: string, props: HitlWorkloadProps<N>) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace;
    this.selector = { 'app.kubernetes.io/name': props.name, 'app.kubernetes.io/part-of': 'hitl-gates' };
    if (!props.ports.some((p) => p.name === props.healthPort)) {
      throw new Error(`${props.name}: the health port "${props.healthPort}" is not one of its ports (${props.ports.map((p) => p.name).join(', ')})`);
    }
    const serviceName = (p: WorkloadPort) => (p.service ? `${this.name}-${p.service}` : this.name);
    this.ports = Object.fromEntries(props.ports.map((p) => [p.name, new ServicePort(this, p.name, p.port, serviceName(p))])) as Record<N, ServicePort>;
    const metadata = { name: props.name, namespace: props.namespace, labels: this.selector };
    const resources = props.resources ?? DEFAULT_RESOURCES;
    const volumes: k8s.Volume[] = [];
    const volumeMounts: k8s.VolumeMount[] = [];
    if (props.data) {
      const claim = new k8s.KubePersistentVolumeClaim(this, 'data', {
        metadata: { ...metadata, name: `${props.name}-data` },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: k8s.Quantity.fromString(`${props.data.size.toMebibytes()}Mi`) } } },
      });
      volumes.push({ name: 'data', persistentVolumeClaim: { claimName: claim.name } });
      volumeMounts.push({ name: 'data', mountPath: props.data.mountPath });
    }
    for (const [i, file] of (props.secretFiles ?? []).entries()) {
      volumes.push({ name: `secret-${i}`, secret: { secretName: file.secretName } });
      volumeMounts.push({ name: `secret-${i}`, mountPath: file.mountPath, readOnly: true });
    }
    const probe = (path: string): k8s.Probe => ({
      httpGet: { path, port: k8s.IntOrString.fromString(props.healthPort) },
      periodSeconds: 10,
      timeoutSeconds: 3,
    });

    new k8s.KubeDeployment(this, 'deployment', {
      metadata,
      spec: {
        replicas: props.replicas ?? 1,
        // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once.
        strategy: props.data ? { type: 'Recreate' } : undefined,
        selector: { matchLabels: this.selector },
        template: {
          metadata: { labels: this.selector },
          spec: {
            automountServiceAccountToken: false,
            securityContext: HARDENED.pod,
            containers: [
              {
                name: 'hitl',
                image: props.image.ref,
                imagePullPolicy: props.image.pullPolicy ?? 'IfNotPresent',
                args: [...props.args, '--host', '0.0.0.0'],
                ports: props.ports.map((p) => ({ name: p.name, containerPort: p.port })),
                env: Object.entries(props.secretEnv ?? {}).map(([name, ref]) => ({ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } })),
                readinessProbe: probe('/readyz'),
                livenessProbe: { ...probe('/healthz'), failureThreshold: 3 },
                resources: {
                  requests: { cpu: k8s.Quantity.fromString(resources.cpu), memory: k8s.Quantity.fromString(resources.memory) },
                  limits: { cpu: k8s.Quantity.fromString(resources.cpuLimit), memory: k8s.Quantity.fromString(resources.memoryLimit) },
                },
                securityContext: HARDENED.container,
                volumeMounts,
              },
            ],
            volumes,
          },
        },
      },
    });

    for (const service of new Set(props.ports.map((p) => p.service))) {
      const ports = props.ports.filter((p) => p.service === service);
      new k8s.KubeService(this, service ? `service-${service}` : 'service', {
        metadata: { ...metadata, name: serviceName(ports[0]) },
        spec: {
          selector: this.selector,
          ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), appProtocol: p.appProtocol })),
        },
      });
    }
  }

  /**
   * Admits `peer` to `ports` of this workload; everything not admitted is dropped. Peers
   * admitted to the same ports share one rule.
   */
  allowFrom(peer: k8s.NetworkPolicyPeer, ...ports: ServicePort[]): void {
    const foreign = ports.find((p) => p.workload !== this);
    if (foreign) throw new Error(`${this.name}: port ${foreign.name} belongs to ${foreign.workload.name}`);
    const key = (list: ServicePort[]) => list.map((p) => p.name).join(',');
    if (!this.ingress.length) this.ingressPolicy();
    const rule = this.ingress.find((r) => key(r.ports) === key(ports));
    if (rule) rule.from.push(peer);
    else this.ingress.push({ ports, from: [peer] });
  }

  private ingressPolicy(): void {
    // A plain ApiObject: the generated KubeNetworkPolicy converts its spec when constructed,
    // which a rule list still growing until synth cannot go through.
    new ApiObject(this, 'ingress', {
      ...k8s.KubeNetworkPolicy.GVK,
      metadata: { name: `${this.name}-ingress`, namespace: this.namespace },
      spec: {
        podSelector: { matchLabels: this.selector },
        policyTypes: ['Ingress'],
        ingress: Lazy.any({
          produce: () => this.ingress.map((rule) => ({ from: rule.from, ports: rule.ports.map((p) => ({ protocol: 'TCP', port: p.number })) })),
        }),
      },
    });
  }
}

export const fromWorkload = (workload: HitlWorkload): k8s.NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': workload.namespace } },
  podSelector: { matchLabels: workload.selector },
});

