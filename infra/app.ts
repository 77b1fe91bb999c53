/**
 * The deployable app: one `AmiCleanerStack` configured from the `amiCleaner` object in cdk.json
 * context, and `-c approvalEmail=...` (required: cdk.json ships none). cdk-nag's AwsSolutions pack runs at
 * every synth; an unacknowledged finding fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './lib/context.ts';
import { AmiCleanerStack } from './lib/stack.ts';

/**
 * The CDK writes "Bundling asset <path>..." for each of the 17 functions a checkout bundles from
 * source; one line at the end says the same. (esbuild's own size report is off: logLevel error.)
 */
function summarizeBundling(): void {
  const write = process.stderr.write.bind(process.stderr);
  let bundled = 0;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (String(chunk).startsWith('Bundling asset ')) {
      bundled += 1;
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  process.once('beforeExit', () => {
    if (bundled > 0) write(`Bundled ${bundled} Lambda functions from functions/ with the local esbuild\n`);
  });
}

const app = new App();
// After App, whose own beforeExit listener (the synth) must run first.
summarizeBundling();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
try {
  new AmiCleanerStack(app, 'AmiCleanerStack', {
    description: 'ami-cleaner: approval-gated cleanup of old AMIs and their snapshots',
    // Environment-agnostic unless the CLI knows the account and region, so synth works offline.
    env: account && region ? { account, region } : undefined,
    cleaner: propsFromContext(app.node.tryGetContext('amiCleaner'), app.node.tryGetContext('approvalEmail')),
  });
} catch (error) {
  // A setting to fix is one line for the person running cdk, not a stack trace.
  if (!(error instanceof Error && /^AmiCleaner(Stack)?: /.test(error.message))) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
