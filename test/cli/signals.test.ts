/**
 * `npm start` and `amicleaner run` as a process that is told to end: Ctrl-C (SIGINT), SIGTERM (a
 * CI job cancelled, a container stopped) or SIGHUP (the terminal closed) while the run waits for
 * approval. The run must be closed and its lock released before the process exits: the local
 * store persists under `.amicleaner/`, so a lock left behind would turn the next run away
 * (SKIPPED_LOCKED) for the lock's whole lease.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../cli/bin.mjs');
const TIMEOUT_MS = 90_000;

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let cwd: string | undefined;

afterEach(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
  cwd = undefined;
});

function demo(
  dir: string,
  ...args: string[]
): { child: ChildProcess; ended: Promise<Ended>; output: () => string } {
  const child = spawn(process.execPath, [BIN, 'demo', '--scenario', 'blog', ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ended = new Promise<Ended>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, ended, output: () => stdout + stderr };
}

async function untilOutput(run: { output: () => string }, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!pattern.test(run.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in the output:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a local run told to end', () => {
  // Ctrl-C names itself "interrupted"; the others by the signal's name.
  for (const [signal, cause] of [
    ['SIGINT', 'interrupted'],
    ['SIGTERM', 'SIGTERM'],
    ['SIGHUP', 'SIGHUP'],
  ] as const) {
    it(
      `${signal} while the approval waits withdraws it, exits non-zero, and leaves the lock free for the next run`,
      async () => {
        // Prepare: a demo waiting for a click on its approval link.
        cwd = await mkdtemp(join(tmpdir(), 'amicleaner-signal-'));
        const waiting = demo(cwd);
        await untilOutput(waiting, /http:\/\/127\.0\.0\.1:\d+\/\?a=/);

        // Act
        waiting.child.kill(signal);
        const first = await waiting.ended;
        const next = await demo(cwd, '--yes').ended;

        // Assess: the run ended WITHDRAWN (nothing deleted) and the next run was not locked out.
        expect(first.code).toBe(1);
        expect(first.stderr).toContain(`${cause}: the approval is withdrawn; nothing will be deleted`);
        expect(first.stderr).toMatch(/was withdrawn before approval: nothing was deleted/);
        expect(next.stderr).not.toMatch(/another run holds the lock/);
        expect(next.code).toBe(0);
        expect(next.stdout).toMatch(/AMIs deregistered: [1-9]/);
      },
      2 * TIMEOUT_MS,
    );
  }
});
