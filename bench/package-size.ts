/**
 * `npm run bench -- package-size`: what the npm package weighs. Packs the repository (`npm pack`,
 * which builds), then installs the tarball as a consumer would, from npm's cache where it can:
 *   - beside aws-cdk-lib and constructs in a CDK app (the construct user), compared with an app
 *     holding only those two;
 *   - alone in an empty folder (the CLI user, as `npx ami-cleaner` or `npm install -g` would).
 * Sizes are apparent bytes of every file, as `du --apparent-size` counts them.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  installConsumerApp,
  installedVersion,
  PACKAGE_JSON,
  packRepository,
  run,
} from '../test/helpers/package-consumer.ts';
import { printTable, type SummaryRow } from './harness.ts';

function bytesUnder(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function peersOnlyApp(workDir: string): string {
  const app = join(workDir, 'peers-only');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'peers', version: '1.0.0', private: true }),
  );
  const peers = [
    `aws-cdk-lib@${installedVersion('aws-cdk-lib')}`,
    `constructs@${installedVersion('constructs')}`,
  ];
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...peers], app);
  return app;
}

export async function runPackageSize(): Promise<SummaryRow[]> {
  const { workDir, tarball } = packRepository();
  try {
    const cdkApp = installConsumerApp(workDir, tarball, { withPeers: true });
    const cliOnly = installConsumerApp(workDir, tarball, { withPeers: false });
    const peersOnly = peersOnlyApp(workDir);
    const pkg = join(cliOnly, 'node_modules', PACKAGE_JSON.name);
    const parts = {
      tarball: bytesUnder(tarball),
      unpacked: bytesUnder(pkg),
      handlers: bytesUnder(join(pkg, 'dist/lambda')),
      cli: bytesUnder(join(pkg, 'dist/cli')),
      construct: bytesUnder(join(pkg, 'dist/infra')),
      constructOnly: bytesUnder(join(cdkApp, 'node_modules')) - bytesUnder(join(peersOnly, 'node_modules')),
      withCli: bytesUnder(join(cliOnly, 'node_modules')),
      peers: bytesUnder(join(peersOnly, 'node_modules')),
    };
    const rows = [
      { figure: 'packed tarball (npm pack)', size: mib(parts.tarball) },
      {
        figure: 'unpacked package',
        size: `${mib(parts.unpacked)}: handlers ${mib(parts.handlers)}, CLI ${mib(parts.cli)}, construct ${mib(parts.construct)}`,
      },
      { figure: 'added to a CDK app (construct user)', size: mib(parts.constructOnly) },
      { figure: 'installed alone (CLI user, npx)', size: mib(parts.withCli) },
      { figure: 'for comparison: aws-cdk-lib + constructs', size: mib(parts.peers) },
    ];
    printTable(`${PACKAGE_JSON.name}@${PACKAGE_JSON.version} package sizes`, rows);
    return rows.map((row) => ({ bench: 'package-size', case: row.figure, figure: row.size }));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
