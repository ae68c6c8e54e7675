import { Ajv, type ValidateFunction } from 'ajv';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';

/** The upstream CRD releases, read where they live; never copied into the project. */
export const CRD_DIR = process.env.HITL_CRDS ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/crds');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: any;
}

const CORE: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** Validates objects against their CRD's openAPIV3Schema, or core objects against Kubernetes' own schema. */
export function schemaValidator(): (object: K8sObject) => string[] {
  if (!existsSync(CRD_DIR)) throw new Error(`the upstream CRDs are not at ${CRD_DIR}; set HITL_CRDS to their folder`);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const crds = new Map<string, ValidateFunction>();
  for (const release of readdirSync(CRD_DIR, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(CRD_DIR, release.name)).filter((f) => f.endsWith('.yaml'))) {
      const crd = parse(readFileSync(join(CRD_DIR, release.name, file), 'utf8'));
      for (const version of crd.spec.versions) {
        crds.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(version.schema.openAPIV3Schema));
      }
    }
  }
  return (object) => {
    const key = `${object.apiVersion}/${object.kind}`;
    const crd = crds.get(key);
    if (crd) {
      return crd(object) ? [] : crd.errors!.map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    }
    const Core = CORE[key];
    if (!Core) return [`no schema known for ${key}`];
    try {
      new Core(object).validate();
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  };
}
