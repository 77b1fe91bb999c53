// Loaded before anything imports the AWS SDK (see vitest.config.ts). On Node 20 the SDK warns
// at every import that its 2027 releases need Node 22; in test output that is only noise.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const first = rest[0];
  const type = typeof first === 'string' ? first : (first as { type?: string } | undefined)?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
