// Synthesizes the stack in memory for the deploy tests, and finds objects in the result.
import { Testing } from 'cdk8s';
import * as assert from 'uvu/assert';
import { HitlStack, type HitlStackProps } from '../../constructs/index.js';
import type { K8sObject } from '../helpers/schemas.js';

export const image = { ref: 'hitl-gates:test' };

export function synth(props: Partial<HitlStackProps> = {}): K8sObject[] {
  const chart = new HitlStack(Testing.app(), 'hitl-gates', { image, ...props });
  return Testing.synth(chart) as K8sObject[];
}

export const find = (objects: K8sObject[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));

export function only(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  assert.is(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}`);
  return found[0];
}

export const label = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The `hitl` container of every workload: our Deployments, and the pods kagent makes for BYO Agents. */
export function hitlContainers(objects: K8sObject[]): { owner: K8sObject; args: string[]; ports: number[]; env: { name: string }[] }[] {
  const deployments = find(objects, 'Deployment').map((owner) => {
    const [container] = owner.spec.template.spec.containers;
    return { owner, args: container.args, ports: container.ports.map((p: any) => p.containerPort), env: container.env ?? [] };
  });
  const byoAgents = find(objects, 'Agent')
    .filter((agent) => agent.spec.byo)
    .map((owner) => ({ owner, args: owner.spec.byo.deployment.args, ports: [KAGENT_BYO_PORT], env: owner.spec.byo.deployment.env ?? [] }));
  return [...deployments, ...byoAgents];
}

/** kagent v0.9 gives a BYO agent's container and Service this port, whatever the Agent says. */
export const KAGENT_BYO_PORT = 8080;
