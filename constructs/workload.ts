import type { Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ListeningPort } from '../app/shared/invocation.js';

/** The one image every workload runs; each Deployment picks its subcommand. */
export interface HitlImage {
  /** e.g. `ghcr.io/acme/hitl-gates:0.1.0`. */
  readonly ref: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export interface WorkloadPort {
  readonly name: string;
  readonly port: number;
  /** `kubernetes.io/h2c` for plaintext gRPC, so the gateway speaks HTTP/2 to it. */
  readonly appProtocol?: string;
  /** Put this port on its own Service, `<workload>-<service>`; by default it shares `<workload>`. */
  readonly service?: string;
}

/** The ports a subcommand listens on, as the container and its Services open them, with what Kubernetes needs beyond the number. */
export function workloadPorts(listening: ListeningPort[], details: Record<string, Omit<WorkloadPort, 'name' | 'port'>> = {}): WorkloadPort[] {
  return listening.map(({ name, port }) => ({ name, port, ...details[name] }));
}

/** A value read from a Secret rather than written into the manifest. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface WorkloadProps {
  readonly namespace: string;
  readonly name: string;
  readonly image: HitlImage;
  /** `hitl` subcommand and its flags, built from the subcommand's flag spec (`argv`). */
  readonly args: string[];
  readonly ports: WorkloadPort[];
  /** The port serving /healthz and /readyz. */
  readonly healthPort: string;
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

const DEFAULT_RESOURCES = { cpu: '50m', memory: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' };

/**
 * One `hitl` subcommand as a hardened Deployment and its Service: non-root, read-only root
 * filesystem, every capability dropped, probes on /readyz and /healthz, requests and limits.
 */
export class HitlWorkload extends Construct {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Record<string, string>;
  private readonly ports: WorkloadPort[];

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace;
    this.ports = props.ports;
    this.selector = { 'app.kubernetes.io/name': props.name, 'app.kubernetes.io/part-of': 'hitl-gates' };
    if (!props.ports.some((p) => p.name === props.healthPort)) {
      throw new Error(`${props.name}: the health port "${props.healthPort}" is not one of its ports (${props.ports.map((p) => p.name).join(', ')})`);
    }
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
            securityContext: { runAsNonRoot: true, ...NON_ROOT_USER, seccompProfile: { type: 'RuntimeDefault' } },
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
                securityContext: {
                  runAsNonRoot: true,
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                },
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
        metadata: { ...metadata, name: this.serviceName(ports[0].name) },
        spec: {
          selector: this.selector,
          ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), appProtocol: p.appProtocol })),
        },
      });
    }
  }

  /** The Service that exposes the named port. */
  serviceName(portName: string): string {
    const service = this.findPort(portName).service;
    return service ? `${this.name}-${service}` : this.name;
  }

  port(name: string): number {
    return this.findPort(name).port;
  }

  /** In-cluster URL of the named port, through its Service. */
  url(portName: string): string {
    return `http://${this.host(portName)}:${this.port(portName)}`;
  }

  host(portName: string): string {
    return `${this.serviceName(portName)}.${this.namespace}.svc.cluster.local`;
  }

  private findPort(name: string): WorkloadPort {
    const found = this.ports.find((p) => p.name === name);
    if (!found) throw new Error(`${this.name} has no port named "${name}"`);
    return found;
  }
}

/** Admits traffic to `target`'s named ports only from the given peers; everything else is dropped. */
export function allowIngress(scope: Construct, id: string, target: HitlWorkload, rules: { ports: string[]; from: k8s.NetworkPolicyPeer[] }[]): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, id, {
    metadata: { name: `${target.name}-ingress`, namespace: target.namespace },
    spec: {
      podSelector: { matchLabels: target.selector },
      policyTypes: ['Ingress'],
      ingress: rules.map((rule) => ({
        from: rule.from,
        ports: rule.ports.map((name) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(target.port(name)) })),
      })),
    },
  });
}

export const fromWorkload = (workload: HitlWorkload): k8s.NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': workload.namespace } },
  podSelector: { matchLabels: workload.selector },
});

