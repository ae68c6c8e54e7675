// Bundles the `hitl` binary into one ES module. PGlite stays external: it loads its
// WebAssembly and data files relative to its own package at run time.
import { cpSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['app/main.ts'],
  outfile: 'dist/hitl.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['@electric-sql/pglite'],
  loader: { '.proto': 'text', '.js.txt': 'text' },
  // Bundled CommonJS dependencies still call require() for Node built-ins.
  banner: { js: "import { createRequire as __hitlRequire } from 'node:module'; const require = __hitlRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The reviewer queue and the chat page serve these from beside the bundle (app/shared/static-files.ts).
cpSync('app/ui/assets', 'dist/assets', { recursive: true });
cpSync('app/agent/assets', 'dist/assets', { recursive: true });
