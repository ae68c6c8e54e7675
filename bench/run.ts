/**
 * Runs every `bench/*.bench.ts` in turn and rewrites docs/benchmarks.md with their tables,
 * the machine and the date. Benchmarks report; they never assert a time.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface BenchSection {
  title: string;
  markdown: string;
  /** Headline rows for the summary table: what, the figure, and what it is compared with. */
  summary: [what: string, figure: string, comparedWith: string][];
}

const only = process.argv[2];
const files = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only)))
  .sort();

const sections: BenchSection[] = [];
for (const file of files) {
  console.error(`running ${file}…`);
  const mod = (await import(new URL(file, import.meta.url).href)) as { run(): Promise<BenchSection> };
  const section = await mod.run();
  console.error(section.markdown);
  sections.push(section);
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, ${process.platform}`;
const doc = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machine}.`,
  'Every figure is compared with a baseline measured in the same run.',
  'Two versions of the binary measured one after the other on one machine: [benchmark-comparisons.md](benchmark-comparisons.md).',
  '',
  '| what | figure | compared with (same run) |',
  '| --- | --- | --- |',
  ...sections.flatMap((section) => section.summary.map((row) => `| ${row.join(' | ')} |`)),
  '',
  ...sections.flatMap((s) => [`## ${s.title}`, '', s.markdown, '']),
].join('\n');
if (!only) writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), doc);
else console.log(doc);
