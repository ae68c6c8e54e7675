import type { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Gateway, GatewaySpecListenersAllowedRoutesNamespacesFrom } from '../imports/gateway-gateway.networking.k8s.io.js';

/** A Gateway API Gateway that routes carry traffic through, made here or brought along. */
export interface GatewayRef {
  readonly name: string;
  readonly namespace: string;
  /** Where agents reach it in the cluster (agentgateway names the Service after the Gateway). */
  readonly url: string;
}

/**
 * The gateway's proxy pods as a NetworkPolicy peer. The Gateway API controller labels them with
 * the Gateway's name, so its controller and anything else in that namespace stay outside.
 */
export function fromGateway(gateway: GatewayRef): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': gateway.namespace } },
    podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': gateway.name } },
  };
}

export function existingGateway(name: string, namespace: string, port = 80): GatewayRef {
  return { name, namespace, url: `http://${name}.${namespace}.svc.cluster.local${port === 80 ? '' : `:${port}`}` };
}

export interface AgentGatewayProps {
  readonly name?: string;
  readonly namespace?: string;
  readonly port?: number;
}

/** An agentgateway-class Gateway with one HTTP listener that accepts routes from any namespace. */
export class AgentGateway extends Construct implements GatewayRef {
  readonly name: string;
  readonly namespace: string;
  readonly url: string;

  constructor(scope: Construct, id: string, props: AgentGatewayProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'agentgateway';
    this.namespace = props.namespace ?? 'agentgateway-system';
    const port = props.port ?? 80;
    this.url = existingGateway(this.name, this.namespace, port).url;
    new Gateway(this, 'gateway', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        gatewayClassName: 'agentgateway',
        listeners: [{ name: 'http', protocol: 'HTTP', port, allowedRoutes: { namespaces: { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.ALL } } }],
      },
    });
  }
}
