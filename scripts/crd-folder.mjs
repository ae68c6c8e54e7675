// Where the upstream CRD releases are read from. They are never part of the repository: the
// folder named by HITL_CRDS when set (and then only that one, so a mistyped path is reported
// instead of quietly replaced); otherwise shared/crds beside the checkout; otherwise .crds/
// inside it, which `npm run crds` fills from the upstream releases.
// Run directly, it prints the folder found, or where it looked and how to fill one (exit 1).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repository = fileURLToPath(new URL('..', import.meta.url));

/** The folders tried, in order. */
export function crdFolderCandidates(env = process.env) {
  if (env.HITL_CRDS) return [resolve(env.HITL_CRDS)];
  return [resolve(repository, '../shared/crds'), resolve(repository, '.crds')];
}

/** The first candidate that exists, and every place looked at. */
export function findCrdFolder(env = process.env) {
  const looked = crdFolderCandidates(env);
  return { folder: looked.find((candidate) => existsSync(candidate)), looked };
}

/** Why no CRDs were found and what to do about it, naming each place looked at. */
export function missingCrdsMessage(looked) {
  return `the upstream CRDs were not found; looked in ${looked.join(', then ')}. Run \`npm run crds\` to fetch the released files into .crds/, or set HITL_CRDS to a folder holding them`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { folder, looked } = findCrdFolder();
  if (folder) {
    console.log(folder);
  } else {
    console.error(missingCrdsMessage(looked));
    process.exit(1);
  }
}
