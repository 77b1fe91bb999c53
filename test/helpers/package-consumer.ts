/**
 * Packs this repository the way `npm publish` would (`npm pack`, which runs `prepack`) and installs
 * the tarball into a fresh app in a temporary folder, as a consumer would. Used by the package test
 * and by `bench/package-size.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const PACKAGE_JSON = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
};

/** The versions this repository was tested with, so the consumer gets the same peers. */
export function installedVersion(name: string): string {
  const file = join(REPO_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/**
 * The environment for commands run "as the consumer": no `node_modules/.bin` of this repository
 * on PATH (npm test puts it there, with esbuild and tsx), no npm_* variables of the outer run.
 */
export function consumerEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => !dir.includes('node_modules'))
    .join(':');
  return { ...env, ...extra };
}

export function run(command: string, args: readonly string[], cwd: string, env = consumerEnvironment()) {
  return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `npm pack` into a new temporary folder; returns the tarball's path. */
export function packRepository(): { workDir: string; tarball: string } {
  const workDir = mkdtempSync(join(tmpdir(), 'ami-cleaner-package-'));
  // prepack (npm run build) runs in the repository itself, with its own tools.
  execFileSync('npm', ['pack', '--pack-destination', workDir, '--silent'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const name = readdirSync(workDir).find((file) => file.endsWith('.tgz'));
  if (!name) throw new Error(`npm pack wrote no tarball to ${workDir}`);
  return { workDir, tarball: join(workDir, name) };
}

export interface ConsumerAppOptions {
  /** Also install aws-cdk-lib and constructs (a CDK app); without them, a CLI-only install. */
  readonly withPeers: boolean;
}

/**
 * A new app folder with the tarball installed. The registry is used only for what npm's cache
 * lacks (`--prefer-offline`); peers are pinned to the versions this repository was tested with.
 */
export function installConsumerApp(workDir: string, tarball: string, options: ConsumerAppOptions): string {
  const app = join(workDir, options.withPeers ? 'cdk-app' : 'cli-only');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  const packages = [tarball];
  if (options.withPeers) {
    packages.push(
      `aws-cdk-lib@${installedVersion('aws-cdk-lib')}`,
      `constructs@${installedVersion('constructs')}`,
    );
  }
  run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages],
    app,
  );
  return app;
}
