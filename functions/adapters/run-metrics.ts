/**
 * Publishes a run's metrics as CloudWatch Embedded Metric Format through Powertools Metrics: one
 * JSON line on stdout per dimension set, which Lambda's log group turns into metrics. No
 * CloudWatch API call, so no IAM and nothing to retry.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  METRIC_DIMENSION,
  METRICS_NAMESPACE,
  type MetricUnitName,
  RUN_METRIC,
  type RunMetrics,
} from '../core/run-metrics.ts';

/** What Finalize publishes through; tests and the local runner may leave it out. */
export interface RunMetricsPublisher {
  publish(metrics: RunMetrics): void;
}

const UNIT: Readonly<Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]>> = {
  Count: MetricUnit.Count,
  Gigabytes: MetricUnit.Gigabytes,
  Seconds: MetricUnit.Seconds,
  None: MetricUnit.NoUnit,
};

export class PowertoolsRunMetrics implements RunMetricsPublisher {
  readonly #metrics: Metrics;

  /** `serviceName` becomes the `service` dimension (POWERTOOLS_SERVICE_NAME when not given). */
  constructor(options: { serviceName?: string } = {}) {
    this.#metrics = new Metrics({
      namespace: METRICS_NAMESPACE,
      ...(options.serviceName === undefined ? {} : { serviceName: options.serviceName }),
    });
  }

  publish(run: RunMetrics): void {
    const deployment = {
      [METRIC_DIMENSION.region]: run.dimensions.region,
      [METRIC_DIMENSION.account]: run.dimensions.account,
    };
    // Two documents: the quantities by deployment, and the run count by deployment and outcome
    // (one document has one dimension set for all its metrics); a third for a target run.
    this.#publishQuantities(run, deployment);
    this.#addDimensions({ ...deployment, [METRIC_DIMENSION.outcome]: run.outcome });
    this.#metrics.addMetric(RUN_METRIC.runs, MetricUnit.Count, 1);
    this.#metrics.publishStoredMetrics();
    // A target run's quantities again, by the account and region it cleaned (their own metrics).
    if (run.target) {
      this.#publishQuantities(run, {
        ...deployment,
        [METRIC_DIMENSION.targetAccount]: run.target.account,
        [METRIC_DIMENSION.targetRegion]: run.target.region,
      });
    }
  }

  /** One EMF document: every quantity of the run under `dimensions`. */
  #publishQuantities(run: RunMetrics, dimensions: Readonly<Record<string, string>>): void {
    this.#addDimensions(dimensions);
    for (const value of run.values) this.#metrics.addMetric(value.name, UNIT[value.unit], value.value);
    this.#metrics.publishStoredMetrics();
  }

  /** Into the one dimension set with `service` (Powertools' `addDimensions` would start a second set). */
  #addDimensions(dimensions: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries(dimensions)) this.#metrics.addDimension(name, value);
  }
}
