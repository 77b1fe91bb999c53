/** Where the CLI writes. Tables and JSON go to stdout; progress and errors go to stderr. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Progress is shown only on an interactive stderr. */
  readonly stderrIsTty: boolean;
  /** Width tables must fit (`COLUMNS`, else the terminal's); undefined: no limit (a pipe, a file). */
  readonly columns?: number | undefined;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stderrIsTty: Boolean(process.stderr.isTTY),
    columns: terminalColumns(process.env.COLUMNS, process.stdout.isTTY ? process.stdout.columns : undefined),
  };
}

/** `COLUMNS` wins, as in other command-line tools; then the terminal's width. */
export function terminalColumns(env: string | undefined, tty: number | undefined): number | undefined {
  const fromEnv = env !== undefined && /^\d+$/.test(env.trim()) ? Number(env) : undefined;
  if (fromEnv !== undefined && fromEnv > 0) return fromEnv;
  return tty !== undefined && tty > 0 ? tty : undefined;
}

/** Collects output in memory; used by tests and by anything that embeds the CLI. */
export function bufferIo(options: { columns?: number } = {}): CliIo & {
  stdout: () => string;
  stderr: () => string;
} {
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
    columns: options.columns,
    stdout: () => out,
    stderr: () => err,
  };
}
