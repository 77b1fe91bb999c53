/**
 * How the construct turns a handler file into a Lambda function. The installed package uses the
 * handlers it was built with (`PrebundledFunctionFactory`); a checkout bundles `functions/<file>.ts`
 * with the local esbuild (`NodejsFunctionFactory`); tests pass `InlineCodeFunctionFactory` so a
 * synth takes milliseconds and needs no handler files. All share `baseFunctionProps`, so tests see
 * the same runtime, architecture, tracing and logging settings as a deployment.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLED_HANDLER, HANDLER_BUNDLE_FILE, HANDLER_BUNDLING } from './bundling.ts';
import type { HandlerSpec } from './handlers.ts';

export const POWERTOOLS_SERVICE_NAME = 'ami-cleaner';

/** The newest Node.js runtime this aws-cdk-lib knows (cdk-nag L1 asks for the latest). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** What the construct asks a FunctionFactory for; every field is set by the construct. */
export interface WorkflowFunctionProps {
  /** Which handler (its source file and entry) the function runs. */
  readonly handler: HandlerSpec;
  /** The handler's environment variables (docs/DESIGN.md, "Environment"). */
  readonly environment: Readonly<Record<string, string>>;
  /** Per invocation. */
  readonly timeout: Duration;
  /** In MiB. */
  readonly memorySize: number;
  /** Where the function logs; the construct owns its retention. */
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

/**
 * Where the package ships its pre-built handlers: `dist/lambda/<file>/index.mjs`, next to this
 * module once compiled to `dist/infra/lib/`. In a checkout the folder does not exist beside the
 * sources, so the in-repo app and the tests keep bundling from source.
 */
export const PREBUNDLED_LAMBDA_DIR = fileURLToPath(new URL('../../lambda/', import.meta.url));

export function handlerEntry(file: string): string {
  return fileURLToPath(new URL(`../../functions/${file}.ts`, import.meta.url));
}

/** Source maps make stack traces in the logs name our files and lines. */
const SOURCE_MAPS_ENVIRONMENT = { NODE_OPTIONS: '--enable-source-maps' };

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
      environment: { ...base.environment, ...SOURCE_MAPS_ENVIRONMENT },
      bundling: {
        ...HANDLER_BUNDLING,
        format: OutputFormat.ESM,
        mainFields: [...HANDLER_BUNDLING.mainFields],
        externalModules: [...HANDLER_BUNDLING.externalModules],
        // esbuild's per-bundle size report and warnings would bury what a synth has to say.
        logLevel: LogLevel.ERROR,
      },
    });
  }
}

export interface PrebundledFunctionFactoryProps {
  /**
   * Folder holding one `<file>/index.mjs` per handler.
   * @default - the package's own `dist/lambda/`
   */
  readonly directory?: string;
}

/**
 * Uses the handlers the package was built with (`npm run build`, run by `prepack`) as plain
 * `Code.fromAsset` folders, the way aws-cdk-lib ships its own custom resource handlers: a
 * consumer's synth needs no esbuild, no Docker and no lock file.
 */
export class PrebundledFunctionFactory implements FunctionFactory {
  readonly directory: string;

  constructor(props: PrebundledFunctionFactoryProps = {}) {
    this.directory = props.directory ?? PREBUNDLED_LAMBDA_DIR;
  }

  createFunction(scope: Construct, id: string, props: WorkflowFunctionProps): lambda.Function {
    const folder = join(this.directory, props.handler.file);
    if (!existsSync(join(folder, HANDLER_BUNDLE_FILE))) {
      throw new Error(
        `AmiCleaner: no pre-built handler ${join(folder, HANDLER_BUNDLE_FILE)} (handler ${props.handler.id}); run npm run build`,
      );
    }
    const base = baseFunctionProps(props);
    return new lambda.Function(scope, id, {
      ...base,
      handler: BUNDLED_HANDLER,
      code: lambda.Code.fromAsset(folder),
      environment: { ...base.environment, ...SOURCE_MAPS_ENVIRONMENT },
    });
  }
}

/** The package's pre-built handlers when they exist (an installed package), else bundling from source. */
export function defaultFunctionFactory(): FunctionFactory {
  return existsSync(PREBUNDLED_LAMBDA_DIR) ? new PrebundledFunctionFactory() : new NodejsFunctionFactory();
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
