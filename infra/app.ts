/**
 * The deployable app: one `AmiCleanerStack` configured from the `amiCleaner` object in cdk.json
 * context (or `-c amiCleaner='{"approvalEmail":"..."}'`). cdk-nag's AwsSolutions pack runs at
 * every synth; an unacknowledged finding fails it.
 */
import { App, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { AmiCleaner, type AmiCleanerProps } from './ami-cleaner.ts';
import { propsFromContext } from './lib/context.ts';

export class AmiCleanerStack extends Stack {
  readonly cleaner: AmiCleaner;

  constructor(scope: Construct, id: string, props: StackProps & { readonly cleaner: AmiCleanerProps }) {
    super(scope, id, props);
    this.cleaner = new AmiCleaner(this, 'AmiCleaner', props.cleaner);
  }
}

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new AmiCleanerStack(app, 'AmiCleanerStack', {
  description: 'ami-cleaner: approval-gated cleanup of old AMIs and their snapshots',
  // Environment-agnostic unless the CLI knows the account and region, so synth works offline.
  env: account && region ? { account, region } : undefined,
  cleaner: propsFromContext(app.node.tryGetContext('amiCleaner')),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
