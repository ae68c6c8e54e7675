import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface GateMetrics {
  registry: Registry;
  decisions: Counter<'outcome'>;
  timeToDecision: Histogram<'outcome'>;
  checkLatency: Histogram<'verdict'>;
  batchSize: Histogram;
}

/** One registry per server, so several servers in one process never share counters. */
export function createMetrics(now: { parkedHere(): number; writesWaiting(): number }): GateMetrics {
  const registry = new Registry();
  new Gauge({ name: 'hitl_pending_requests', help: 'Requests parked on this replica, waiting for a decision', registers: [registry], collect() {
    this.set(now.parkedHere());
  } });
  new Gauge({ name: 'hitl_store_writes_waiting', help: 'Changes to the queue and audit entries submitted and not yet committed', registers: [registry], collect() {
    this.set(now.writesWaiting());
  } });
  return {
    registry,
    decisions: new Counter({ name: 'hitl_decisions_total', help: 'Requests ended, by outcome', labelNames: ['outcome'], registers: [registry] }),
    timeToDecision: new Histogram({
      name: 'hitl_time_to_decision_seconds',
      help: 'From park to release',
      labelNames: ['outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    checkLatency: new Histogram({
      name: 'hitl_check_duration_seconds',
      help: 'Check handling time for calls not parked (pass and deny)',
      labelNames: ['verdict'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'hitl_store_batch_size',
      help: 'Changes committed together in one transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
  };
}
