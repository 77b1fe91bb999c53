/**
 * How the construct turns a handler file into a Lambda function. Production bundles
 * `functions/<file>.ts` with the local esbuild; tests pass `InlineCodeFunctionFactory` so a synth
 * takes milliseconds and needs no handler files. Both share `baseFunctionProps`, so tests see the
 * same runtime, architecture, tracing and logging settings as a deployment.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { HandlerSpec } from './handlers.ts';

export const POWERTOOLS_SERVICE_NAME = 'ami-cleaner';

/** The newest Node.js runtime this aws-cdk-lib knows (cdk-nag L1 asks for the latest). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface WorkflowFunctionProps {
  readonly handler: HandlerSpec;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logGroup: logs.ILogGroup;
}

export interface FunctionFactory {
  createFunction(scope: Construct, id: string, props: WorkflowFunctionProps): lambda.Function;
}

export function baseFunctionProps(props: WorkflowFunctionProps) {
  return {
    description: props.handler.description,
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    timeout: props.timeout,
    memorySize: props.memorySize,
    tracing: lambda.Tracing.ACTIVE,
    logGroup: props.logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: { POWERTOOLS_SERVICE_NAME, ...props.environment },
  } satisfies Partial<lambda.FunctionProps>;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function handlerEntry(file: string): string {
  return fileURLToPath(new URL(`../../functions/${file}.ts`, import.meta.url));
}

/** Bundles `functions/<file>.ts` with the local esbuild (no Docker) into one ESM file per function. */
export class NodejsFunctionFactory implements FunctionFactory {
  createFunction(scope: Construct, id: string, props: WorkflowFunctionProps): lambda.Function {
    const entry = handlerEntry(props.handler.file);
    if (!existsSync(entry)) {
      throw new Error(`AmiCleaner: handler file ${entry} does not exist (handler ${props.handler.id})`);
    }
    const base = baseFunctionProps(props);
    return new NodejsFunction(scope, id, {
      ...base,
      entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      environment: { ...base.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // Bundle the SDK too: handlers run against the SDK version the tests ran against.
        externalModules: [],
        // Some CommonJS dependencies call require() for Node built-ins, which ESM output lacks.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });
  }
}

/** For tests: the same function settings with a stub body, so nothing is bundled. */
export class InlineCodeFunctionFactory implements FunctionFactory {
  createFunction(scope: Construct, id: string, props: WorkflowFunctionProps): lambda.Function {
    return new lambda.Function(scope, id, {
      ...baseFunctionProps(props),
      handler: 'index.handler',
      code: lambda.Code.fromInline(
        `exports.handler = async () => { throw new Error('test stub for ${props.handler.file}'); };`,
      ),
    });
  }
}
