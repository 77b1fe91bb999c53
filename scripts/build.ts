/**
 * `npm run build` (also run by `prepack`): what the npm package ships, in `dist/`.
 *   - `tsc -p tsconfig.build.json`: the construct as ES modules with `.d.ts`, from the package
 *     entry `infra/index.ts` (`dist/infra/index.js`);
 *   - the `amicleaner` CLI as one esbuild bundle (`dist/cli/amicleaner/bin.js`, split at its lazy
 *     imports). It carries the AWS SDK and every other CLI dependency except dynalite (a native
 *     LevelDB addon, so the package's one `dependency`): a construct-only consumer installs no SDK;
 *   - one esbuild bundle per handler, `dist/lambda/<file>/index.mjs`, with the same options
 *     `NodejsFunction` uses in a checkout (`infra/lib/bundling.ts`), so a consumer's synth bundles
 *     nothing;
 *   - the ASL definition, `dist/statemachine/`, which the construct and the local runner load.
 * Prints one line per step.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  CLI_RUNTIME_DEPENDENCIES,
  ESM_REQUIRE_BANNER,
  HANDLER_BUNDLE_NAME,
  HANDLER_BUNDLING,
} from '../infra/lib/bundling.ts';
import {
  DEFINITION_PATH,
  DELETE_BATCH_DEFINITION_PATH,
  ORGANIZATION_DEFINITION_PATH,
} from '../infra/lib/definition.ts';
import { ALL_HANDLERS } from '../infra/lib/handlers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');

async function step(label: string, run: () => unknown): Promise<void> {
  const started = performance.now();
  const detail = await run();
  console.log(`${label}${detail ? `, ${detail}` : ''} (${Math.round(performance.now() - started)} ms)`);
}

function mebibytes(outputs: Record<string, { bytes: number }>, suffix: string): string {
  const bytes = Object.entries(outputs)
    .filter(([file]) => file.endsWith(suffix))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

await step('cleaned dist/', () => rmSync(DIST, { recursive: true, force: true }));

await step('compiled the construct to dist/infra/ (tsc -p tsconfig.build.json)', () => {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
});

// Two folders below dist/, like dist/infra/lib/, so `definition.ts` finds `../../statemachine/`
// from inside the bundle as it does from the compiled construct.
await step('bundled the CLI into dist/cli/amicleaner/', async () => {
  const result = await build({
    entryPoints: { bin: join(ROOT, 'cli/bin.ts') },
    outdir: join(DIST, 'cli/amicleaner'),
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Whitespace and syntax only: names stay readable in a user's stack trace.
    minifyWhitespace: true,
    minifySyntax: true,
    external: [...CLI_RUNTIME_DEPENDENCIES],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'error',
    metafile: true,
  });
  return mebibytes(result.metafile.outputs, '.js');
});

await step(`bundled ${ALL_HANDLERS.length} handlers into dist/lambda/<file>/`, async () => {
  const result = await build({
    entryPoints: Object.fromEntries(
      ALL_HANDLERS.map((h) => [`${h.file}/${HANDLER_BUNDLE_NAME}`, join(ROOT, `functions/${h.file}.ts`)]),
    ),
    outdir: join(DIST, 'lambda'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: HANDLER_BUNDLING.format,
    target: HANDLER_BUNDLING.target,
    minify: HANDLER_BUNDLING.minify,
    sourcemap: HANDLER_BUNDLING.sourceMap,
    sourcesContent: HANDLER_BUNDLING.sourcesContent,
    mainFields: [...HANDLER_BUNDLING.mainFields],
    external: [...HANDLER_BUNDLING.externalModules],
    banner: { js: HANDLER_BUNDLING.banner },
    logLevel: 'error',
    metafile: true,
  });
  return mebibytes(result.metafile.outputs, '.mjs');
});

await step('copied the state machine definitions to dist/statemachine/', () => {
  mkdirSync(join(DIST, 'statemachine'), { recursive: true });
  for (const path of [DEFINITION_PATH, DELETE_BATCH_DEFINITION_PATH, ORGANIZATION_DEFINITION_PATH])
    copyFileSync(path, join(DIST, 'statemachine', basename(path)));
});
