// Every service folder under app/ owns its surface; what two of them share lives in
// app/contracts/ (wire contracts) or app/shared/ (plumbing). A service importing another's
// folder would make that folder's internals a contract nobody declared, so this suite reads
// every import in app/ and names each one that crosses a service boundary. The one door into
// a service folder is its flags.ts, the spec of how the service is started, which imports
// nothing but other contracts so that `hitl dev`, the constructs and the tests may read it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

const appDir = new URL('../../app/', import.meta.url).pathname;
/** Folders every side may import; everything else under app/ is one service's own. */
const COMMON_FOLDERS = new Set(['contracts', 'shared']);
/** The composition root: the files that put the subcommands together into one binary. */
const COMPOSITION_ROOT = new Set(['main.ts', 'commands.ts']);
/** A service folder's invocation spec, which anything may import. */
const isFlagSpec = (pathInApp: string) => /^[^/]+\/flags\.js$/.test(pathInApp);

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** Relative import specifiers of one source text. */
function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]).filter((s) => s.startsWith('.'));
}

/** The first folder under app/ of a path relative to app/, or null for a file at its top. */
function ownerOf(pathInApp: string): string | null {
  const parts = pathInApp.split('/');
  return parts.length > 1 ? parts[0] : null;
}

/** `from → to` for every import that reaches into another service's folder. */
function violations(files: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    if (COMPOSITION_ROOT.has(file)) continue;
    const owner = ownerOf(file);
    for (const specifier of importsOf(source)) {
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      const targetOwner = ownerOf(target);
      if (targetOwner === null || COMMON_FOLDERS.has(targetOwner) || targetOwner === owner || isFlagSpec(target)) continue;
      found.push(`${file} → ${target}`);
    }
  }
  return found;
}

function sourcesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name)) files.set(relative(dir, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

test('the scanner sees static, re-exported, side-effect and dynamic imports', () => {
  const source = `import { a } from './a.js';\nimport type {\n  B,\n} from '../b/b.js';\nexport { c } from '../c/c.js';\nimport './d.js';\nconst e = await import('../e/e.js');\nimport pino from 'pino';`;
  assert.equal(importsOf(source), ['./a.js', '../b/b.js', '../c/c.js', './d.js', '../e/e.js']);
});

test('an import from one service folder into another is named; contracts, shared and its own folder are not', () => {
  const files = new Map([
    ['ui/admin-client.ts', `import type { ApprovalRequest } from '../ext-auth/store.js';\nimport { x } from '../contracts/admin-api.js';\nimport { y } from './session.js';`],
    ['shared/http.ts', `import { serveGrpc } from '../ext-auth/grpc.js';`],
    ['mcp/db/orders.ts', `import { plan } from './migrations.js';\nimport type { Sql } from '../../shared/sql.js';`],
    ['catalogue.ts', `import { z } from './mcp/tools/tool.js';`],
    ['commands.ts', `import { uiCommand } from './ui/command.js';`],
    ['dev/command.ts', `import { uiFlags } from '../ui/flags.js';\nimport { slack } from '../ui/slack/flags.js';`],
  ]);
  assert.equal(violations(files), ['ui/admin-client.ts → ext-auth/store.js', 'shared/http.ts → ext-auth/grpc.js', 'catalogue.ts → mcp/tools/tool.js', 'dev/command.ts → ui/slack/flags.js']);
});

test('no folder under app/ imports another service folder', () => {
  const files = sourcesUnder(appDir);
  assert.ok(files.size > 50, `expected the whole app/ tree, read ${files.size} files`);
  assert.equal(violations(files), []);
});

test('each flag spec imports only contracts, the flag parsers and Node itself, so anything may import it', () => {
  const specs = [...sourcesUnder(appDir)].filter(([file]) => /^[^/]+\/flags\.ts$/.test(file));
  assert.ok(specs.length >= 6, `expected a flags.ts in every service folder, found ${specs.map(([f]) => f)}`);
  for (const [file, source] of specs) {
    const allImports = [...source.matchAll(/from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    const foreign = allImports.filter((s) => !s.startsWith('node:') && !s.startsWith('../contracts/') && s !== '../shared/flags.js');
    assert.equal(foreign, [], file);
  }
});

test.run();
