/**
 * Start-up stays light: `--version`, `--help` and bare `amicleaner` must not load the SDK
 * clients, dynalite, the local Step Functions runner or the simulated account. Each heavy
 * module is mocked by a factory that records that it was loaded; the commands load them only
 * when they run (bench/cli-startup.ts measures what that saves).
 */
import { describe, expect, it, vi } from 'vitest';
import { bufferIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';

const loaded = vi.hoisted(() => [] as string[]);

vi.mock('@aws-sdk/client-ec2', () => {
  loaded.push('@aws-sdk/client-ec2');
  return {};
});
vi.mock('@aws-sdk/client-dynamodb', () => {
  loaded.push('@aws-sdk/client-dynamodb');
  return {};
});
vi.mock('@aws-sdk/client-auto-scaling', () => {
  loaded.push('@aws-sdk/client-auto-scaling');
  return {};
});
vi.mock('dynalite', () => {
  loaded.push('dynalite');
  return {};
});
vi.mock('aws-local-stepfunctions', () => {
  loaded.push('aws-local-stepfunctions');
  return {};
});
vi.mock('cli-table3', () => {
  loaded.push('cli-table3');
  return {};
});
vi.mock('../../cli/simulated-account/account.ts', () => {
  loaded.push('simulated-account');
  return {};
});

describe('amicleaner start-up', () => {
  it.each([
    [['--version']],
    [['-v']],
    [['--help']],
    [[]],
    [['plan', '--help']],
    [['run', '--help']],
    [['demo', '--help']],
    [['history', '--help']],
  ])('%j exits 0 and loads no SDK client, dynalite, runner, simulator or table renderer', async (argv) => {
    // Prepare
    const io = bufferIo();

    // Act
    const code = await main(argv, io);

    // Assess
    expect(code).toBe(0);
    expect(io.stderr()).toBe('');
    expect(io.stdout()).not.toBe('');
    expect(loaded).toEqual([]);
  });

  it('does load them once a command runs (so the mocks above would notice)', async () => {
    // Act: the mocked simulator cannot build an account, so the command fails; what counts is
    // that running it reached for the modules the start-up left alone.
    await main(['plan', '--demo', '--json'], bufferIo());

    // Assess
    expect(loaded).toEqual(expect.arrayContaining(['simulated-account', '@aws-sdk/client-ec2']));
  });
});
