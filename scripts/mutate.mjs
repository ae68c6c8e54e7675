// `npm run mutate [file…]`: mutation testing of the security core with Stryker, one file at a
// time, each against only the suites that cover it, so a run fits on a small machine. Writes
// docs/mutation.md (score per file, surviving mutants) and docs/mutation/<file>.json (Stryker's
// JSON report). Files not named keep the numbers of their last run. Not part of `npm test`.
// Run it with nothing else heavy on the machine: one mutant at a time, at low priority.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Each core file and the suites that exercise it, as test path regexes (test/run.mjs) run in
 * order: the in-process suites first, then those that start servers or the binary, each stage
 * only when those before it pass. A mutant the fast suites kill so costs about a second.
 */
export const CORE = {
  'app/ext-auth/classify.ts': ['ext-auth/classify'],
  'app/ext-auth/strict-json.ts': ['ext-auth/(classify|strict-json)'],
  'app/shared/audit-chain.ts': ['shared/audit-chain', '(ext-auth/gate|trust/audit-proof)'],
  'app/ext-auth/reviewers.ts': ['ext-auth/reviewers', '(ext-auth/(gate|identity|slack-mapping)|ui/sessions)'],
  'app/ui/session.ts': ['ui/session-sealer', 'ui/(sessions|csrf)'],
  'app/agent/approval-wire.ts': ['agent/approval-wire'],
  'app/agent/a2a-server.ts': ['agent/a2a-guard', 'agent/(a2a|ownership)\\.test'],
  'app/agent/graph.ts': ['agent/graph-scripted', 'agent/graph\\.test'],
  'app/mcp/db/orders.ts': ['mcp/orders', 'mcp/tools'],
  'app/gateway/proxy.ts': ['gateway/proxy', 'gateway/(agentgateway-semantics|end-to-end)'],
  'app/ext-auth/admin.ts': ['ext-auth/admin-routes', 'ext-auth/(gate|gate-in-process|queue-counts)\\.test'],
  'app/ext-auth/store.ts': ['ext-auth/store\\.test', 'ext-auth/(gate-in-process|admin-routes|pending-page|queue-counts)', '(ext-auth/(gate|group-commit|identical-calls|restart)|replicas/postgres)\\.test'],
  'app/ext-auth/gate.ts': ['ext-auth/gate-in-process', '(ext-auth/(gate|identical-calls|redaction)|replicas/connection-loss)\\.test'],
  'app/ext-auth/held-call.ts': ['ext-auth/(held-call|gate-in-process)', 'ext-auth/(gate|identical-calls)\\.test'],
  'app/ui/server.tsx': ['ui/server', 'ui/'],
};

const GOAL = 90;
const REPORTS = 'docs/mutation';
const STRYKER_CONFIG = '.stryker.conf.json';
const CHECKER_TSCONFIG = '.stryker-tsconfig.json';
// `--summary` rewrites docs/mutation.md from the reports on disk without running anything.
// `--survivors` tests again only the lines of a file's surviving mutants, after tests were
// added for them, and updates those mutants in its report; the file must be as it was then.
const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
const summaryOnly = flags.has('--summary');
const survivorsOnly = flags.has('--survivors');
// `--lines=12,40` with it: only the survivors on those lines (the others stay as they were).
const onlyLines = [...flags].find((f) => f.startsWith('--lines='))?.slice('--lines='.length).split(',').map(Number);
// `--concurrency=2`: mutants tested at once. One leaves a core for other work; on an idle
// machine two nearly halve a file whose mutants mostly reach the slower stages (store.ts).
const concurrency = Number([...flags].find((f) => f.startsWith('--concurrency='))?.slice('--concurrency='.length) ?? 1);
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a whole number of at least 1');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = summaryOnly ? [] : wanted.length ? wanted : Object.keys(CORE);
for (const file of files) if (!CORE[file]) throw new Error(`${file} is not a core file; known: ${Object.keys(CORE).join(', ')}`);

mkdirSync(REPORTS, { recursive: true });

for (const file of files) {
  const whole = `${REPORTS}/${basename(file).replace(/\.tsx?$/, '')}.json`;
  const mutate = survivorsOnly ? survivingLines(file, whole) : [file];
  if (mutate.length === 0) {
    console.log(`\n== ${file}: no surviving mutants to test again`);
    continue;
  }
  const report = survivorsOnly ? `${REPORTS}/.survivors.json` : whole;
  // The checker type-checks every mutant; over the whole project (the generated CRD types
  // included) that cost seconds a mutant. A mutant's type errors show in its own file and the
  // files it imports, so the checker's program is the mutated file alone.
  writeFileSync(CHECKER_TSCONFIG, JSON.stringify({ extends: './tsconfig.json', include: [], files: [file] }, null, 2));
  const config = {
    $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    testRunner: 'command',
    // Exit status only: a killed mutant is a suite that failed, and the first failure ends it.
    // A mutant that hangs an in-process stage (every stage but the last) is stopped by the
    // runner's own deadline (a minute: those suites take seconds, but the admin routes' took
    // over thirty on a machine shared with other runs, which the deadline must not count as a
    // kill) rather than Stryker's, which scales with every stage.
    commandRunner: {
      command: CORE[file].map((suites, stage, stages) => `${stage < stages.length - 1 ? 'HITL_TEST_DEADLINE_MINUTES=1 ' : ''}node test/run.mjs --bail '${suites}'`).join(' && '),
    },
    // Suites that spawn the binary run dist/hitl.mjs beside them, so it is bundled inside the
    // sandbox from the instrumented sources; the child inherits the active mutant's id from
    // the environment, so the binary runs the same mutant as the in-process tests.
    buildCommand: 'node scripts/build.mjs',
    checkers: ['typescript'],
    tsconfigFile: CHECKER_TSCONFIG,
    mutate,
    concurrency,
    coverageAnalysis: 'off',
    // A mutant's deadline is timeoutFactor × the dry run's time + timeoutMS. The later stages
    // run servers and the binary, and on a loaded machine take two or three times as long as
    // in the dry run; a tighter factor counted such slow runs as timeouts, which Stryker
    // scores as kills. A mutant that hangs the first stage is stopped by its own deadline.
    timeoutFactor: 3,
    timeoutMS: 20_000,
    reporters: ['json', 'clear-text', 'progress-append-only'],
    jsonReporter: { fileName: report },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
  };
  writeFileSync(STRYKER_CONFIG, JSON.stringify(config, null, 2));
  console.log(`\n== ${file} against ${CORE[file].join(', then ')}`);
  spawnSync('nice', ['-n', '15', 'npx', 'stryker', 'run', STRYKER_CONFIG], { stdio: 'inherit' });
  rmSync(STRYKER_CONFIG, { force: true });
  rmSync(CHECKER_TSCONFIG, { force: true });
  if (existsSync(report)) compact(report);
  if (survivorsOnly && existsSync(report)) {
    mergeInto(whole, report);
    rmSync(report);
  }
}

writeFileSync('docs/mutation.md', summary());
console.log('wrote docs/mutation.md');

/**
 * Keeps of each killed mutant's reason only the first failing test, not the whole suite output
 * (which made a report megabytes long), and drops the path of the checkout the run was made in.
 */
function compact(path) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  report.projectRoot = '.';
  for (const mutant of Object.values(report.files).flatMap((f) => f.mutants)) {
    if (mutant.status !== 'Killed' || !mutant.statusReason) continue;
    const failure = /FAIL\s+(.+)/.exec(mutant.statusReason)?.[1] ?? mutant.statusReason.trim().split('\n')[0];
    mutant.statusReason = failure.slice(0, 300);
  }
  writeFileSync(path, JSON.stringify(report));
}

/**
 * The lines of `file`'s surviving mutants in its last report, as Stryker mutation ranges. A
 * report of another version of the file would name other code at those lines, so it is refused.
 */
function survivingLines(file, path) {
  if (!existsSync(path)) throw new Error(`${file} has no report yet; run it whole first`);
  const entry = JSON.parse(readFileSync(path, 'utf8')).files[file];
  if (entry.source !== readFileSync(file, 'utf8')) throw new Error(`${file} changed since its report; run it whole`);
  const lines = entry.mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .filter((m) => !onlyLines || onlyLines.includes(m.location.start.line))
    .map((m) => `${file}:${m.location.start.line}-${m.location.end.line}`);
  return [...new Set(lines)];
}

/** Each mutant of the partial report at `partialPath` replaces the same mutant (place, mutator, replacement) in the whole report. */
function mergeInto(wholePath, partialPath) {
  const whole = JSON.parse(readFileSync(wholePath, 'utf8'));
  const key = (m) => JSON.stringify([m.location, m.mutatorName, m.replacement]);
  const retested = new Map(Object.values(JSON.parse(readFileSync(partialPath, 'utf8')).files).flatMap((f) => f.mutants).map((m) => [key(m), m]));
  for (const entry of Object.values(whole.files)) {
    entry.mutants = entry.mutants.map((m) => {
      const again = retested.get(key(m));
      return again ? { ...again, id: m.id } : m;
    });
  }
  writeFileSync(wholePath, JSON.stringify(whole));
}

/** docs/mutation.md from every report on disk: the score per file and each surviving mutant. */
function summary() {
  const rows = [];
  const survivors = [];
  for (const file of Object.keys(CORE)) {
    const path = `${REPORTS}/${basename(file).replace(/\.tsx?$/, '')}.json`;
    if (!existsSync(path)) {
      rows.push(`| \`${file}\` | not yet run | | | | |`);
      continue;
    }
    const measured = JSON.parse(readFileSync(path, 'utf8')).files;
    const mutants = Object.values(measured).flatMap((f) => f.mutants);
    // A file changed since its run: its numbers are those of the version the report holds.
    const stale = measured[file] && measured[file].source !== readFileSync(file, 'utf8') ? ', on an earlier version' : '';
    const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
    const killed = count('Killed', 'Timeout');
    const survived = count('Survived', 'NoCoverage');
    const score = killed + survived ? (100 * killed) / (killed + survived) : 100;
    rows.push(`| \`${file}\` | ${score.toFixed(1)}% | ${killed} | ${survived} | ${count('Ignored')} | ${score >= GOAL ? 'met' : 'below'}${stale} |`);
    for (const m of mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')) {
      survivors.push(`- \`${file}:${m.location.start.line}\` ${m.mutatorName}: \`${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)}\``);
    }
  }
  return [
    '# Mutation testing of the security core',
    '',
    `Made by \`npm run mutate\` (Stryker, TypeScript checker, each file against the suites that cover it; goal ${GOAL}%).`,
    'Killed counts timeouts; mutants that do not compile are left out. Ignored mutants are equivalent ones, each',
    'marked in the source with a comment saying why no test can tell them apart. Reports: `docs/mutation/*.json`.',
    'A report updated with `--survivors` after tests were added holds those survivors tested again, the rest as first run.',
    '',
    '| File | Score | Killed | Survived | Ignored | Goal |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Surviving mutants',
    '',
    // Kept by hand: each survivor read, and why no test can tell it from the code.
    ...(existsSync(`${REPORTS}/why-they-survive.md`) ? ['Why each survives: [mutation/why-they-survive.md](mutation/why-they-survive.md).', ''] : []),
    ...(survivors.length ? survivors : ['None in the files run.']),
    '',
  ].join('\n');
}
