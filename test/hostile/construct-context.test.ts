/**
 * Hostile deployment settings: the repository's own cdk.json `amiCleaner` context with one value
 * replaced, read the way `infra/app.ts` reads it (`propsFromContext`) and given to the construct.
 * Each must stop the synth with a message that names the setting, before any template exists.
 */
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { AmiCleaner, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import { propsFromContext } from '../../infra/lib/context.ts';
import { hostile } from './count.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: { amiCleaner: Record<string, unknown> };
};
// cdk.json ships no approval email (a synth without one must fail): each row gets a real one.
const deployed: Record<string, unknown> = { ...cdkJson.context.amiCleaner, approvalEmail: 'ops@example.com' };
const settings = deployed.planSettings as Record<string, unknown>;

/** Synthesizes the construct from a context value; returns the stack's template if it got that far. */
function synthFromContext(context: unknown): unknown {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'HostileStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  new AmiCleaner(stack, 'AmiCleaner', {
    ...propsFromContext(context),
    functionFactory: new InlineCodeFunctionFactory(),
  });
  return app.synth().getStackByName('HostileStack').template;
}

const withKey = (key: string, value: unknown) => ({ ...deployed, [key]: value });
const withSetting = (key: string, value: unknown) => ({
  ...deployed,
  planSettings: { ...settings, [key]: value },
});

const rows: readonly [string, unknown, RegExp][] = [
  ['no context at all', undefined, /no approval email\. Pass -c approvalEmail=/],
  ['a context that is a list', [deployed], /must be an object/],
  ['a context string that is not JSON', '{"approvalEmail":', /JSON|amiCleaner/],
  ['an unknown key', withKey('approvalTimeout', 3), /unknown "amiCleaner" context key "approvalTimeout"/],
  ['no approval email', withKey('approvalEmail', undefined), /no approval email\. Pass -c approvalEmail=/],
  [
    'an approval email without @',
    withKey('approvalEmail', 'ops at example'),
    /approvalEmail "ops at example" is not an email address/,
  ],
  [
    'an approval email with a header injection',
    withKey('approvalEmail', 'ops@example.com\nBcc: evil@example.net'),
    /approvalEmail .*is not an email address/,
  ],
  ['an approval email list', withKey('approvalEmail', ['ops@example.com']), /approvalEmail/],
  [
    'an approval timeout of 0 hours',
    withKey('approvalTimeoutHours', 0),
    /approvalTimeoutHours must be a positive number of hours/,
  ],
  [
    'a negative approval timeout',
    withKey('approvalTimeoutHours', -2),
    /approvalTimeoutHours must be a positive number of hours/,
  ],
  [
    'an approval timeout given as text',
    withKey('approvalTimeoutHours', '24'),
    /approvalTimeoutHours must be a positive number of hours/,
  ],
  [
    'an approval timeout of 1000 hours',
    withKey('approvalTimeoutHours', 1000),
    /approvalTimeout must be between 5 minutes and 7 days/,
  ],
  [
    'a lock shorter than the approval wait',
    withKey('lockTtlHours', 1),
    /lockTtl must be longer than approvalTimeout/,
  ],
  ['schedule true', withKey('schedule', true), /schedule must be an expression or false/],
  ['a schedule that is no expression', withKey('schedule', 'every monday'), /schedule/],
  ['maxDeletionsPerRun 0', withKey('maxDeletionsPerRun', 0), /maxDeletionsPerRun/],
  ['maxDeletionsPerRun 1e9', withKey('maxDeletionsPerRun', 1e9), /maxDeletionsPerRun/],
  [
    'maxDeletionsPerRun as text',
    withKey('maxDeletionsPerRun', '500'),
    /maxDeletionsPerRun must be a whole number/,
  ],
  [
    'a fractional Map concurrency',
    withKey('deletionMaxConcurrency', 2.5),
    /deletionMaxConcurrency must be a whole number from 1 to 40/,
  ],
  [
    'a Map concurrency above the inline limit',
    withKey('deletionMaxConcurrency', 41),
    /deletionMaxConcurrency must be a whole number from 1 to 40/,
  ],
  [
    'a negative snapshot price',
    withKey('snapshotPricePerGibMonth', -1),
    /snapshotPricePerGibMonth must be a number >= 0/,
  ],
  [
    'a snapshot price as text',
    withKey('snapshotPricePerGibMonth', 'cheap'),
    /snapshotPricePerGibMonth must be a number >= 0/,
  ],
  [
    'a negative keepPrevious',
    withSetting('keepPrevious', -1),
    /planSettings: keepPrevious must be a whole number >= 0/,
  ],
  [
    'a fractional keepPrevious',
    withSetting('keepPrevious', 1.5),
    /planSettings: keepPrevious must be a whole number/,
  ],
  ['keepPrevious as text', withSetting('keepPrevious', '4'), /planSettings: keepPrevious/],
  ['an unknown plan setting', withSetting('keepLatest', 3), /planSettings: unknown setting "keepLatest"/],
  ['an unknown mapping key', withSetting('mappingKey', 'color'), /planSettings: mappingKey/],
  [
    'mapping values that are not a list',
    withSetting('mappingValues', 'environment'),
    /planSettings: mappingValues/,
  ],
  ['an empty list of mapping values', withSetting('mappingValues', []), /planSettings: mappingValues/],
  ['checkOrphans as text', withSetting('checkOrphans', 'yes'), /planSettings: checkOrphans/],
];

describe('hostile deployment context', () => {
  it.each(rows)(hostile('cdk.json context', '%s'), (_what, context, message) => {
    // Act
    let template: unknown;
    const act = () => {
      template = synthFromContext(context);
    };

    // Assess: a synth error that names the setting, and no template.
    expect(act).toThrow(message);
    expect(act).toThrow(/^AmiCleaner(Stack)?: |JSON/);
    expect(template).toBeUndefined();
  });
});
