#!/usr/bin/env node
// The `amicleaner` entry point. The package runs it compiled (`dist/cli/bin.js`, see
// scripts/build.ts); a checkout runs it from source through `cli/bin.mjs` (tsx).

// The SDK warns on every start that its 2027 releases will need Node 22. We support Node 20
// until then (see README); the warning would only bury the tables.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const first = rest[0] as string | { type?: string } | undefined;
  const type = typeof first === 'string' ? first : first?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
