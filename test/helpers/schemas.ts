import { Ajv, type ValidateFunction } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'uvu';
import { parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { findCrdFolder, missingCrdsMessage } from '../../scripts/crd-folder.mjs';
import { skippedUnless } from './skip.js';

/** The upstream CRD releases, read where they live; never copied into the project. */
export const crdFolder = findCrdFolder();

/**
 * Cases that validate against the upstream CRDs. Without them they are reported as skipped,
 * saying where the CRDs were looked for; under CI=true they run and fail with that reason,
 * so a CI run never quietly shrinks.
 */
export function onCrds<T>(register: Test<T>): Test<T> {
  const skip = !crdFolder.folder && process.env.CI !== 'true';
  if (skip) console.warn(`${missingCrdsMessage(crdFolder.looked)}; the CRD validation cases are reported as skipped`);
  return skippedUnless(!skip, register);
}

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
  const folder = crdFolder.folder;
  if (!folder) throw new Error(missingCrdsMessage(crdFolder.looked));
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const schemas = new Map<string, ValidateFunction>();
  for (const release of readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(folder, release.name)).filter((f) => f.endsWith('.yaml'))) {
      const crd = parse(readFileSync(join(folder, release.name, file), 'utf8'));
      for (const version of crd.spec.versions) {
        schemas.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(version.schema.openAPIV3Schema));
      }
    }
  }
  return (object) => {
    const key = `${object.apiVersion}/${object.kind}`;
    const crd = schemas.get(key);
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
