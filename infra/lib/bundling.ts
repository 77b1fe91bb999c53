/**
 * How a handler in `functions/` becomes one Lambda file. One set of esbuild options, used both by
 * `NodejsFunction` (in-repo synth, bundling from source) and by `scripts/build.ts` (the package's
 * pre-built `dist/lambda/<file>/index.mjs`), so a deployment from npm runs the same bundle as one
 * from the checkout. Pure data: no CDK, no esbuild import.
 */

/** Matches the functions' runtime (`FUNCTION_RUNTIME`, Node.js 24). */
export const HANDLER_BUNDLE_TARGET = 'node24';

/** Some CommonJS dependencies call require() for Node built-ins, which ESM output lacks. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export const HANDLER_BUNDLING = {
  format: 'esm',
  target: HANDLER_BUNDLE_TARGET,
  minify: true,
  /** External maps without sources: stack traces name our files (with `--enable-source-maps`). */
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  /** Bundle the SDK too: handlers run against the SDK version the tests ran against. */
  externalModules: [],
  banner: ESM_REQUIRE_BANNER,
} as const;

/** Every bundled handler is `index.mjs` exporting `handler`, so its Lambda handler is `index.handler`. */
export const HANDLER_BUNDLE_NAME = 'index';
export const HANDLER_BUNDLE_FILE = `${HANDLER_BUNDLE_NAME}.mjs`;
export const BUNDLED_HANDLER = `${HANDLER_BUNDLE_NAME}.handler`;

/**
 * What the bundled CLI leaves to `node_modules` (the package's only `dependencies`): dynalite
 * stores the local ledger in LevelDB through a native addon, which a bundle cannot carry.
 */
export const CLI_RUNTIME_DEPENDENCIES = ['dynalite'] as const;
