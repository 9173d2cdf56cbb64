// What a CLI command may touch of its process: two line-oriented output streams and the
// environment. Tests pass their own to capture output; only `defaultIo` sees `process`.

export interface CliIo {
  /** Writes one line (no trailing newline needed) to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Waits between task-status polls; tests make it immediate. */
  sleep?(ms: number): Promise<void>;
}

export function defaultIo(): CliIo {
  return {
    out: (line) => { process.stdout.write(line + '\n'); },
    err: (line) => { process.stderr.write(line + '\n'); },
    env: process.env,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
