import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lazy } from '../../functions/commons/deps.ts';
import {
  getNumberFromEnv,
  getPlanSettingsFromEnv,
  getStringFromEnv,
  InvalidEnvironmentVariableError,
  MissingEnvironmentVariableError,
} from '../../functions/commons/env.ts';
import { failureMessage } from '../../functions/commons/errors.ts';
import { createLogger, REDACTED, redactAttributes } from '../../functions/commons/logger.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';

const TASK_TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'Zm9vYmFy'.repeat(40)}`;

describe('commons/env', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads strings and numbers, and names the missing or malformed variable', () => {
    // Prepare
    for (const [name, value] of Object.entries({
      A: ' x ',
      N: '42',
      F: '1.5',
      BAD: 'ten',
      INF: 'Infinity',
    })) {
      vi.stubEnv(name, value);
    }
    vi.stubEnv('MISSING', undefined);

    // Act & Assess
    expect(getStringFromEnv('A')).toBe('x');
    expect(getNumberFromEnv('N', { integer: true, min: 0 })).toBe(42);
    expect(() => getStringFromEnv('MISSING')).toThrow(MissingEnvironmentVariableError);
    expect(() => getStringFromEnv('MISSING')).toThrow('environment variable MISSING is not set');
    expect(() => getNumberFromEnv('MISSING')).toThrow(MissingEnvironmentVariableError);
    expect(() => getNumberFromEnv('BAD', {})).toThrow(InvalidEnvironmentVariableError);
    expect(() => getNumberFromEnv('INF', {})).toThrow(/INF must be a number/);
    expect(() => getNumberFromEnv('F', { integer: true })).toThrow(/F must be a whole number/);
    expect(() => getNumberFromEnv('N', { min: 100 })).toThrow(/N must be >= 100/);
  });

  it('treats an empty or blank variable as missing, never as the number 0', () => {
    // Prepare
    vi.stubEnv('EMPTY', '');
    vi.stubEnv('BLANK', '   ');

    // Act & Assess
    expect(() => getNumberFromEnv('EMPTY', { min: 0 })).toThrow(MissingEnvironmentVariableError);
    expect(() => getNumberFromEnv('BLANK', { min: 0 })).toThrow(MissingEnvironmentVariableError);
    expect(() => getStringFromEnv('BLANK')).toThrow('environment variable BLANK is not set');
  });

  it('reads DEFAULT_PLAN_SETTINGS as validated overrides of the core defaults', () => {
    // Prepare
    vi.stubEnv('S', '{"keepPrevious":9}');

    // Act
    const settings = getPlanSettingsFromEnv('S');

    // Assess
    expect(settings).toEqual({ ...DEFAULT_PLAN_SETTINGS, keepPrevious: 9 });
    vi.stubEnv('S', '{nope');
    expect(() => getPlanSettingsFromEnv('S')).toThrow(/not valid JSON/);
    vi.stubEnv('S', '{"keepPrevious":-1}');
    expect(() => getPlanSettingsFromEnv('S')).toThrow(InvalidEnvironmentVariableError);
  });
});

describe('commons/deps lazy', () => {
  it('builds once, and retries a build that threw', () => {
    // Prepare
    let calls = 0;
    const get = lazy(() => {
      calls += 1;
      if (calls === 1) throw new Error('not yet');
      return { client: calls };
    });

    // Act
    const first = () => get();
    expect(first).toThrow('not yet');
    const a = get();
    const b = get();

    // Assess
    expect(a).toBe(b);
    expect(calls).toBe(2);
  });
});

describe('commons/logger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('redacts credential-named keys and long opaque values, keeps ids', () => {
    // Act
    const safe = redactAttributes({
      runId: 'run-1',
      imageId: 'ami-0123456789abcdef0',
      planHash: 'a'.repeat(64),
      taskToken: 'short',
      note: `token was ${TASK_TOKEN}`,
      count: 3,
      skipped: undefined,
    });

    // Assess
    expect(safe).toEqual({
      runId: 'run-1',
      imageId: 'ami-0123456789abcdef0',
      planHash: 'a'.repeat(64),
      taskToken: REDACTED,
      note: `token was ${REDACTED}`,
      count: 3,
    });
  });

  it('never passes a task token to the Powertools logger', () => {
    // Prepare
    const powertools = new Logger({ serviceName: 'test' });
    const info = vi.spyOn(powertools, 'info').mockImplementation(() => undefined);
    const logger = createLogger('test', powertools);

    // Act
    logger.info('approval', { runId: 'run-1', detail: TASK_TOKEN });

    // Assess
    expect(JSON.stringify(info.mock.calls)).not.toContain(TASK_TOKEN);
    expect(info).toHaveBeenCalledWith('approval', { runId: 'run-1', detail: REDACTED });
  });
});

describe('commons/errors failureMessage', () => {
  it('keeps the error name and the Lambda errorMessage, drops the trace, caps the length', () => {
    // Act
    const short = failureMessage({
      Error: 'NotApprovedError',
      Cause: JSON.stringify({ errorType: 'NotApprovedError', errorMessage: 'is PLANNED', trace: ['at x'] }),
    });
    const long = failureMessage({ Error: 'E', Cause: 'word '.repeat(200) });

    // Assess
    expect(short).toBe('NotApprovedError: is PLANNED');
    expect(long.length).toBeLessThanOrEqual(300);
    expect(failureMessage(undefined)).toBe('UnknownError');
  });
});
