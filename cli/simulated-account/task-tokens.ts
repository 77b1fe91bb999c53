import { SimulatedAwsError } from './errors.ts';
import { SeededRandom } from './ids.ts';

/**
 * The settlement of a `.waitForTaskToken` task that failed (SendTaskFailure) or timed out. Its
 * `name` is the error the caller sent (`States.Timeout` for a timeout) rather than a fixed class
 * name, because the local runner rethrows it into an ASL Retry/Catch, which match on `error.name`.
 */
export class TaskFailedError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

export type TaskTokenStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

interface TokenEntry {
  status: TaskTokenStatus;
  readonly promise: Promise<unknown>;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Task tokens of the simulated Step Functions service. The local runner `issue()`s a token for a
 * `.waitForTaskToken` state, hands it to the task, and awaits `wait(token)`; the product's own
 * SendTaskSuccess / SendTaskFailure calls (through a real SFNClient attached to the account)
 * settle it. A token settles once: later calls get `TaskTimedOut`, as in AWS.
 */
export class TaskTokens {
  private readonly entries = new Map<string, TokenEntry>();
  private readonly random: SeededRandom;

  constructor(seed: string) {
    this.random = new SeededRandom(`task-tokens:${seed}`);
  }

  /** A new pending token, shaped like a real one (long, opaque, base64). */
  issue(): string {
    const bytes = Buffer.alloc(160);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32BE(this.random.nextUint32(), i);
    const token = `AQC${bytes.toString('base64')}`;
    let resolve!: (output: unknown) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody may be waiting yet (or ever): that must not become an unhandled rejection.
    promise.catch(() => undefined);
    this.entries.set(token, { status: 'PENDING', promise, resolve, reject });
    return token;
  }

  /**
   * Settles with the parsed JSON `output` of SendTaskSuccess, or rejects with `TaskFailedError`
   * (SendTaskFailure, or `expire`). Unknown tokens are a programming error and throw at once.
   */
  wait(token: string): Promise<unknown> {
    const entry = this.entries.get(token);
    if (entry === undefined)
      return Promise.reject(new Error('wait() on a task token this account never issued'));
    return entry.promise;
  }

  status(token: string): TaskTokenStatus | undefined {
    return this.entries.get(token)?.status;
  }

  /** Simulates the state's TimeoutSeconds elapsing: the waiter fails with `States.Timeout`. */
  expire(token: string): void {
    const entry = this.pendingEntry(token);
    entry.status = 'TIMED_OUT';
    entry.reject(new TaskFailedError('States.Timeout', 'The task timed out waiting for a callback.'));
  }

  /** SendTaskSuccess. */
  succeed(token: string, output: string): void {
    const entry = this.pendingEntry(token);
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new SimulatedAwsError('InvalidOutput', 'Invalid Output: the output is not valid JSON.');
    }
    entry.status = 'SUCCEEDED';
    entry.resolve(parsed);
  }

  /** SendTaskFailure. */
  fail(token: string, error: string | undefined, cause: string | undefined): void {
    const entry = this.pendingEntry(token);
    entry.status = 'FAILED';
    entry.reject(new TaskFailedError(error ?? 'States.TaskFailed', cause ?? ''));
  }

  private pendingEntry(token: string): TokenEntry {
    const entry = this.entries.get(token);
    if (entry === undefined) throw new SimulatedAwsError('InvalidToken', "Invalid Token: 'Invalid token'");
    if (entry.status !== 'PENDING') {
      throw new SimulatedAwsError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return entry;
  }
}
