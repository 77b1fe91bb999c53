/**
 * The npm package as a consumer gets it: `npm pack` (which runs `prepack`, the build), the tarball
 * installed into a fresh CDK app with only aws-cdk-lib and constructs beside it, a synth there with
 * no esbuild, no tsx and no lock file, and the installed `amicleaner` bin.
 */

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { ALL_HANDLERS } from '../../infra/lib/handlers.ts';
import { installConsumerApp, PACKAGE_JSON, packRepository, run } from '../helpers/package-consumer.ts';

// Packing builds everything; on a 2-core machine shared by several test runs that took 4 minutes.
const TIMEOUT = 1_200_000;

let workDir: string;
let app: string;
let installed: string;

beforeAll(() => {
  const packed = packRepository();
  workDir = packed.workDir;
  app = installConsumerApp(workDir, packed.tarball, { withPeers: true });
  installed = join(app, 'node_modules', PACKAGE_JSON.name);
}, TIMEOUT);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, TIMEOUT);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Bare specifiers reachable from a compiled ES module through its static and dynamic imports. */
function bareImportsReachableFrom(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    // Comments may quote imports (`import { AmiCleaner } from 'ami-cleaner'`); only code counts.
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const match of code.matchAll(IMPORT)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else bare.add(specifier);
    }
  }
  return bare;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties: {
    readonly Handler?: string;
    readonly Runtime?: string;
    readonly Code?: { readonly S3Key?: string };
    readonly Environment?: { readonly Variables: Record<string, string> };
    readonly DefinitionString?: unknown;
  };
}

describe('the packed package', () => {
  it('ships compiled JavaScript, declarations, pre-built handlers and the definition, and no sources', () => {
    const files = filesUnder(installed).map((file) => file.slice(installed.length + 1));
    expect(files).toContain('dist/infra/index.js');
    expect(files).toContain('dist/infra/index.d.ts');
    expect(files).toContain('dist/cli/amicleaner/bin.js');
    expect(files).toContain('dist/statemachine/ami-cleaner.asl.json');
    expect(files).toContain('dist/statemachine/delete-batch.asl.json');
    expect(files, 'the licence travels with the package').toContain('LICENSE');
    for (const handler of ALL_HANDLERS) expect(files).toContain(`dist/lambda/${handler.file}/index.mjs`);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.some((file) => file.startsWith('test/') || file === 'package-lock.json')).toBe(false);
  });

  it('leaves the consumer without a bundler: esbuild and tsx cannot be resolved from the app', () => {
    const requireFromApp = createRequire(join(app, 'package.json'));
    const requireFromCdk = createRequire(requireFromApp.resolve('aws-cdk-lib'));
    for (const bundler of ['esbuild', 'tsx']) {
      expect(() => requireFromApp.resolve(bundler)).toThrow(/Cannot find module/);
      expect(() => requireFromCdk.resolve(bundler)).toThrow(/Cannot find module/);
    }
  });

  it('imports nothing but aws-cdk-lib, constructs and Node built-ins from the construct entry', () => {
    const bare = bareImportsReachableFrom(join(installed, 'dist/infra/index.js'));
    const outside = [...bare].filter(
      (name) => !name.startsWith('node:') && name !== 'constructs' && !/^aws-cdk-lib(\/|$)/.test(name),
    );
    expect(outside).toEqual([]);
    expect(bare).toContain('aws-cdk-lib');
  });

  it(
    'synthesizes AmiCleaner with non-default props in the consumer app from the pre-built handlers',
    () => {
      // Prepare
      writeFileSync(
        join(app, 'synth.mjs'),
        `import { App, Duration, Stack } from 'aws-cdk-lib';
import { AmiCleaner } from '${PACKAGE_JSON.name}';
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
const cleaner = new AmiCleaner(stack, 'Cleaner', {
  approvalEmail: 'platform-team@example.org',
  approvalTimeout: Duration.hours(6),
  maxDeletionsPerRun: 120,
  deletionMaxConcurrency: 3,
  planSettings: { keepPrevious: 2 },
  // The organization run too: its definition and its functions ship in the package.
  targets: { accounts: ['210987654321'], regions: ['eu-west-1'] },
});
app.synth();
console.log(JSON.stringify({
  functions: Object.keys(cleaner.functions),
  stateMachine: cleaner.stateMachine.node.path,
  organizationStateMachine: cleaner.organizationStateMachine?.node.path,
}));
`,
      );
      const outdir = join(workDir, 'cdk.out');

      // Act
      const printed = JSON.parse(run(process.execPath, ['synth.mjs', outdir], app)) as {
        functions: string[];
        stateMachine: string;
        organizationStateMachine?: string;
      };

      // Assess
      expect(printed.functions).toContain('DeregisterImage');
      expect(printed.stateMachine).toBe('Consumer/Cleaner/StateMachine');
      expect(printed.organizationStateMachine).toBe('Consumer/Cleaner/OrganizationStateMachine');
      const template = JSON.parse(readFileSync(join(outdir, 'Consumer.template.json'), 'utf8'));
      const resources = Object.values(template.Resources) as TemplateResource[];
      const assets = JSON.parse(readFileSync(join(outdir, 'Consumer.assets.json'), 'utf8')) as {
        files: Record<string, { source: { path: string } }>;
      };
      const ours = resources.filter(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler',
      );
      expect(ours).toHaveLength(ALL_HANDLERS.length);
      for (const fn of ours) {
        expect(fn.Properties.Runtime).toBe('nodejs24.x');
        expect(fn.Properties.Code?.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
        // The staged asset is the very file the package ships, not a bundle made at this synth.
        const hash = fn.Properties.Code?.S3Key?.replace(/\.zip$/, '') ?? '';
        const assetDir = join(outdir, assets.files[hash]?.source.path ?? 'no such asset');
        const staged = readFileSync(join(assetDir, 'index.mjs'));
        const shipped = ALL_HANDLERS.map((h) => join(installed, 'dist/lambda', h.file, 'index.mjs')).find(
          (file) => readFileSync(file).equals(staged),
        );
        expect(shipped).toBeDefined();
      }
      const acquireLock = ours.find((fn) => fn.Properties.Environment?.Variables.MAX_DELETIONS_PER_RUN);
      expect(acquireLock?.Properties.Environment?.Variables).toMatchObject({
        MAX_DELETIONS_PER_RUN: '120',
        APPROVAL_TIMEOUT_SECONDS: '21600',
      });
      expect(
        JSON.parse(acquireLock?.Properties.Environment?.Variables.DEFAULT_PLAN_SETTINGS ?? '{}'),
      ).toMatchObject({
        keepPrevious: 2,
      });
      // Function ARNs go through DefinitionSubstitutions, so the definitions themselves are plain JSON.
      const [definition, child] = ['RequestApproval', 'LoadBatch'].map((state) =>
        resources
          .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')
          .map((r) => JSON.parse(r.Properties.DefinitionString as string))
          .find((d) => d.States[state]),
      );
      expect(child.States.DeleteImages.MaxConcurrency).toBe(3);
      expect(child.States.DeleteOrphans.MaxConcurrency).toBe(3);
      expect(definition.States.RequestApproval.TimeoutSeconds).toBe(21600);
    },
    TIMEOUT,
  );

  it('runs the installed amicleaner: --version prints the package version', () => {
    expect(run(join(app, 'node_modules/.bin/amicleaner'), ['--version'], app).trim()).toBe(
      PACKAGE_JSON.version,
    );
  });

  it(
    'runs the installed amicleaner: plan --demo --json gives the plan the sources give',
    async () => {
      // Prepare
      const io = bufferIo();
      const deps = {
        awsEnvironment: () => Promise.reject(new Error('the demo never reaches a real account')),
        demoEnvironment,
      };
      expect(await main(['plan', '--demo', '--json'], io, deps)).toBe(0);
      const fromSources = JSON.parse(io.stdout());

      // Act
      const installedPlan = JSON.parse(
        run(join(app, 'node_modules/.bin/amicleaner'), ['plan', '--demo', '--json'], app),
      );

      // Assess
      expect(installedPlan.planHash).toMatch(/^[0-9a-f]{64}$/);
      expect(installedPlan.planHash).toBe(fromSources.planHash);
      expect(installedPlan.totals).toEqual(fromSources.totals);
    },
    TIMEOUT,
  );

  it(
    'runs the installed amicleaner: demo --yes completes a run on its dynalite ledger',
    () => {
      const output = JSON.parse(
        run(join(app, 'node_modules/.bin/amicleaner'), ['demo', '--yes', '--json'], app),
      );
      expect(output.output.status).toBe('COMPLETED');
      expect(output.output.deregistered).toBeGreaterThan(0);
      expect(existsSync(join(app, '.amicleaner'))).toBe(true);
    },
    TIMEOUT,
  );
});
