/** Where the CLI writes. Tables and JSON go to stdout; progress and errors go to stderr. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Progress is shown only on an interactive stderr. */
  readonly stderrIsTty: boolean;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stderrIsTty: Boolean(process.stderr.isTTY),
  };
}

/** Collects output in memory; used by tests and by anything that embeds the CLI. */
export function bufferIo(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    stderrIsTty: false,
    stdout: () => out,
    stderr: () => err,
  };
}
