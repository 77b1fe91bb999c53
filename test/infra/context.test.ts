import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { propsFromContext } from '../../infra/lib/context.ts';

describe('the amiCleaner context', () => {
  it('turns the cdk.json object into construct props', () => {
    // Prepare
    const context = {
      approvalEmail: 'ops@example.com',
      approvalTimeoutHours: 12,
      lockTtlHours: 14.5,
      schedule: 'rate(7 days)',
      planSettings: { keepPrevious: 3 },
      maxDeletionsPerRun: 200,
    };

    // Act
    const props = propsFromContext(context);

    // Assess
    expect(props.approvalEmail).toBe('ops@example.com');
    expect(props.approvalTimeout?.toMinutes()).toBe(Duration.hours(12).toMinutes());
    expect(props.lockTtl?.toMinutes()).toBe(870);
    expect(props.schedule ? props.schedule.expressionString : undefined).toBe('rate(7 days)');
    expect(props.planSettings).toEqual({ keepPrevious: 3 });
    expect(props.maxDeletionsPerRun).toBe(200);
  });

  it('passes the organization settings through to the construct, which validates them', () => {
    // Prepare
    const targets = {
      accounts: ['210987654321'],
      organizationalUnits: ['ou-ab12-abcdefgh'],
      regions: ['eu-west-1'],
    };

    // Act
    const props = propsFromContext({
      approvalEmail: 'ops@example.com',
      targets,
      memberRoleName: 'R',
      targetMaxConcurrency: 4,
    });
    const without = propsFromContext({ approvalEmail: 'ops@example.com' });

    // Assess
    expect(props).toMatchObject({ targets, memberRoleName: 'R', targetMaxConcurrency: 4 });
    expect(Object.keys(without)).not.toContain('targets');
  });

  it('accepts a JSON string, as `cdk synth -c amiCleaner=...` passes it', () => {
    // Act
    const props = propsFromContext('{"approvalEmail":"ops@example.com","schedule":false}');

    // Assess
    expect(props).toMatchObject({ approvalEmail: 'ops@example.com', scheduleEnabled: false });
  });

  it('takes -c approvalEmail over the object, so cdk.json needs no address', () => {
    // Act
    const props = propsFromContext({ approvalEmail: '', maxDeletionsPerRun: 50 }, 'approver@example.org');

    // Assess
    expect(props.approvalEmail).toBe('approver@example.org');
  });

  it.each([
    [undefined, /no approval email\. Pass -c approvalEmail=/],
    [{ approvalEmail: '' }, /no approval email\. Pass -c approvalEmail=/],
    [[], /must be an object/],
    [{ approvalEmail: 'a@b.co', approvalTimeout: 3 }, /unknown "amiCleaner" context key "approvalTimeout"/],
    [
      { approvalEmail: 'a@b.co', approvalTimeoutHours: -2 },
      /approvalTimeoutHours must be a positive number of hours/,
    ],
    [{ approvalEmail: 'a@b.co', schedule: true }, /schedule must be an expression or false/],
  ])('rejects %j', (context, message) => {
    // Act
    const act = () => propsFromContext(context);

    // Assess
    expect(act).toThrow(message);
  });
});
