/**
 * Loaded into the server a benchmark measures (NODE_OPTIONS: --expose-gc --import): on SIGUSR2
 * it collects garbage and prints one JSON line with what the process holds, so a figure per
 * parked call counts what is still reachable, not what the collector has yet to free.
 */
/** Numbers each probe's line, so the bench can tell it from the lines of earlier probes. */
let probes = 0;

process.on('SIGUSR2', () => {
  // Twice: objects with finalizers or weak references are freed on a second pass.
  globalThis.gc();
  globalThis.gc();
  const memory = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ msg: 'heap probe', n: ++probes, heapUsed: memory.heapUsed, external: memory.external, rss: memory.rss })}\n`,
  );
});
