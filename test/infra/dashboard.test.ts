import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, RUN_METRIC, RUN_OUTCOMES } from '../../functions/core/run-metrics.ts';
import { AmiCleaner, type AmiCleanerProps, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import { POWERTOOLS_SERVICE_NAME } from '../../infra/lib/function-factory.ts';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk the parsed dashboard JSON.
type Json = Record<string, any>;

function synth(props: Partial<AmiCleanerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  const template = Template.fromStack(stack);
  const [dashboard, ...others] = Object.values(
    template.findResources('AWS::CloudWatch::Dashboard'),
  ) as Json[];
  if (!dashboard || others.length > 0) throw new Error('expected exactly one dashboard');
  // The body is a Fn::Join of text and references; a reference becomes `<LogicalId>`.
  const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as (string | Json)[];
  const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : `<${p.Ref}>`)).join('')) as Json;
  return { stack, cleaner, template, widgets: body.widgets as Json[] };
}

/** `[namespace, name, ...dimension pairs, options]` rows of a widget, as CloudWatch stores them. */
function metricRows(widget: Json): { namespace: string; name: string; dimensions: Json; options: Json }[] {
  return (widget.properties.metrics as unknown[][]).map((row) => {
    // CloudWatch's default statistic, Average, is left out of the stored row.
    const last = row.at(-1);
    const stored = (typeof last === 'object' ? last : {}) as Json;
    const options: Json = { stat: 'Average', ...stored };
    const fields = (typeof last === 'object' ? row.slice(0, -1) : row) as string[];
    const [namespace = '', name = '', ...pairs] = fields;
    const dimensions: Json = {};
    for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1];
    return { namespace, name, dimensions, options };
  });
}

const titled = (widgets: Json[], title: string): Json => {
  const widget = widgets.find((w) => w.properties?.title === title);
  if (!widget) throw new Error(`no widget titled "${title}"`);
  return widget;
};

describe('audit dashboard', () => {
  const { stack, cleaner, widgets } = synth();
  const target = { service: POWERTOOLS_SERVICE_NAME, region: 'eu-west-1', account: '123456789012' };

  it('graphs the metrics Finalize emits, under its namespace, dimensions and names', () => {
    // Act
    const rows = widgets.filter((w) => w.type === 'metric').flatMap(metricRows);
    const ours = rows.filter((row) => row.namespace === METRICS_NAMESPACE);

    // Assess: every metric Finalize emits is on the dashboard, and nothing else of ours is
    expect(new Set(ours.map((row) => row.name))).toEqual(new Set(Object.values(RUN_METRIC)));
    for (const row of ours) expect(row.dimensions).toMatchObject(target);
    expect(rows.filter((row) => row.namespace !== METRICS_NAMESPACE).map((row) => row.namespace)).toEqual(
      Array(3).fill('AWS/States'),
    );
  });

  it('counts runs per outcome, one series for every status a run can end with', () => {
    // Act
    const rows = metricRows(titled(widgets, 'Runs by outcome'));

    // Assess
    expect(rows.map((row) => row.name)).toEqual(RUN_OUTCOMES.map(() => RUN_METRIC.runs));
    expect(rows.map((row) => row.dimensions.outcome)).toEqual([...RUN_OUTCOMES]);
    expect(rows.every((row) => row.options.stat === 'Sum' && row.options.period === 86_400)).toBe(true);
  });

  it('sums deletions and savings, and shows approval latency as average and slowest', () => {
    // Act
    const totals = metricRows(titled(widgets, 'Totals over the time range'));
    const latency = metricRows(titled(widgets, 'Approval latency (seconds from request to decision)'));

    // Assess
    expect(totals.map((row) => [row.name, row.options.stat])).toEqual([
      [RUN_METRIC.amisDeregistered, 'Sum'],
      [RUN_METRIC.snapshotsDeleted, 'Sum'],
      [RUN_METRIC.gibFreed, 'Sum'],
      [RUN_METRIC.estimatedMonthlySavingUsd, 'Sum'],
    ]);
    expect(titled(widgets, 'Totals over the time range').properties.setPeriodToTimeRange).toBe(true);
    expect(latency.map((row) => [row.name, row.options.stat])).toEqual([
      [RUN_METRIC.approvalLatency, 'Average'],
      [RUN_METRIC.approvalLatency, 'Maximum'],
    ]);
  });

  it('links to the executions of this state machine and to the ledger table in the console', () => {
    // Prepare
    const machine = stack.resolve(cleaner.stateMachine.stateMachineArn).Ref as string;
    const table = stack.resolve(cleaner.ledgerTable.tableName).Ref as string;

    // Act
    const text = widgets.find((w) => w.type === 'text')?.properties.markdown as string;

    // Assess
    expect(text).toContain(
      `(https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/statemachines/view/<${machine}>)`,
    );
    expect(text).toContain(`#item-explorer?table=<${table}>)`);
  });

  it('alarms when a run ends with failed items, which no execution alarm sees', () => {
    // Act
    const alarm = stack.getLogicalId(cleaner.dashboard.itemsFailedAlarm.node.defaultChild as CfnElement);
    const props = Template.fromStack(stack).toJSON().Resources[alarm].Properties as Json;

    // Assess
    const stat = props.Metrics[0].MetricStat as Json;
    expect(stat).toMatchObject({
      Metric: { Namespace: METRICS_NAMESPACE, MetricName: RUN_METRIC.itemsFailed },
    });
    expect(stat.Stat).toBe('Sum');
    expect(props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(Object.fromEntries((stat.Metric.Dimensions as Json[]).map((d) => [d.Name, d.Value]))).toEqual(
      target,
    );
  });
});

describe('audit dashboard with targets', () => {
  const { stack, cleaner, widgets } = synth({
    targets: { accounts: ['123456789012', '210987654321'], regions: ['eu-west-1', 'us-east-1'] },
  });
  const BY_TARGET = ['AMIs deregistered', 'Items failed'].map(
    (what) => `${what} per day, by target account and region`,
  );

  it("graphs each target's own metrics through a SEARCH of the dimension set target runs publish", () => {
    for (const [title, name] of [
      [BY_TARGET[0], RUN_METRIC.amisDeregistered],
      [BY_TARGET[1], RUN_METRIC.itemsFailed],
    ] as const) {
      // Act
      const [row, ...more] = titled(widgets, title as string).properties.metrics as Json[][];

      // Assess: the schema is the adapter's third document's (service, region, account, targetAccount,
      // targetRegion), limited to this deployment's account and region.
      expect(more).toEqual([]);
      expect(row?.[0]?.expression).toBe(
        `SEARCH('{${METRICS_NAMESPACE},service,region,account,targetAccount,targetRegion} MetricName="${name}" ` +
          `service="${POWERTOOLS_SERVICE_NAME}" account="123456789012" region="eu-west-1"', 'Sum', 86400)`,
      );
    }
  });

  it('links to the organization runs as well as the target runs', () => {
    // Prepare
    const organization = stack.resolve(cleaner.organizationStateMachine?.stateMachineArn).Ref as string;

    // Act
    const text = widgets.find((w) => w.type === 'text')?.properties.markdown as string;

    // Assess
    expect(text).toContain(
      `[Organization runs](https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/statemachines/view/<${organization}>)`,
    );
  });

  it('has no by-target row and no organization link without targets', () => {
    const plain = synth().widgets;
    for (const title of BY_TARGET) expect(() => titled(plain, title as string)).toThrow(/no widget/);
    expect(JSON.stringify(plain)).not.toContain('Organization runs');
  });
});
