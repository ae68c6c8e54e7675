// The packages the bundle does not carry, because they load files of their own at run time:
// PGlite its WebAssembly and data, htmx the script served to reviewers' browsers. The image
// holds exactly these beside dist/ (Dockerfile); test/deploy/image-layout.test.ts runs the
// services from such a layout and nothing else.
//
// `node scripts/runtime-packages.mjs DIR` copies them from ./node_modules to DIR/node_modules.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const runtimePackages = ['@electric-sql/pglite', 'htmx.org'];

export function copyRuntimePackages(from, to) {
  for (const name of runtimePackages) cpSync(join(from, 'node_modules', name), join(to, 'node_modules', name), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [to] = process.argv.slice(2);
  if (!to) {
    console.error('usage: node scripts/runtime-packages.mjs DIR');
    process.exit(2);
  }
  copyRuntimePackages(process.cwd(), to);
}
