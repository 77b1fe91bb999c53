import { describe, expect, it } from 'vitest';
import {
  compareTargets,
  crossTargets,
  EXECUTION_NAME_MAX_LENGTH,
  InvalidTargetError,
  isOrganizationalUnitId,
  isRegion,
  parseTargetKey,
  partitionOf,
  sameTarget,
  TARGET_KEY_MAX_LENGTH,
  target,
  targetExecutionName,
  validateTargetSelection,
} from '../../functions/core/target.ts';

const HOSTILE_ACCOUNTS = [
  '12345678901', // 11 digits
  '1234567890123', // 13 digits
  '12345678901a',
  ' 123456789012',
  '123456789012\n',
  '../123456789',
  '123456#89012',
  '１２３４５６７８９０１２', // full-width digits
  '١٢٣٤٥٦٧٨٩٠١٢', // Arabic-Indic digits
  '',
  123456789012,
  null,
  undefined,
];

const HOSTILE_REGIONS = [
  'eu-west-1/../../x',
  '../eu-west-1',
  'eu-west-1#',
  'eu west 1',
  'EU-WEST-1',
  'eu-west-',
  'eu-west-123',
  'eu-wеst-1', // Cyrillic е
  'eu-west-1\u0000',
  'eu-somewhere-1',
  'x'.repeat(200),
  '',
  42,
];

describe('target', () => {
  it('derives one canonical key from account and region', () => {
    // Act
    const each = target('123456789012', 'eu-west-1');

    // Assess
    expect(each).toEqual({ accountId: '123456789012', region: 'eu-west-1', key: '123456789012-eu-west-1' });
    expect(Object.isFrozen(each)).toBe(true);
  });

  it('accepts the region codes of every partition', () => {
    for (const region of [
      'us-east-1',
      'ap-southeast-2',
      'us-gov-west-1',
      'cn-north-1',
      'us-isob-east-1',
      'eu-isoe-west-1',
      'il-central-1',
      'ap-northeast-3',
    ]) {
      expect(target('000000000001', region).region).toBe(region);
    }
  });

  it.each(HOSTILE_ACCOUNTS)('rejects account id %j', (accountId) => {
    expect(() => target(accountId, 'eu-west-1')).toThrow(InvalidTargetError);
  });

  it.each(HOSTILE_REGIONS)('rejects region %j', (region) => {
    expect(() => target('123456789012', region)).toThrow(InvalidTargetError);
  });

  it('quotes a hostile value escaped and cut short in its message', () => {
    // Act
    const error = (() => {
      try {
        target('123456789012', `eu-west-1\n${'A'.repeat(500)}`);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a throw');
    })();

    // Assess
    expect(error.message).toContain('"eu-west-1\\nAAAA');
    expect(error.message).not.toContain('\n');
    expect(error.message.length).toBeLessThan(100);
  });

  it('parses its key back, and nothing else', () => {
    // Prepare
    const each = target('123456789012', 'us-gov-west-1');

    // Act
    const parsed = parseTargetKey(each.key);

    // Assess
    expect(sameTarget(parsed, each)).toBe(true);
    expect(parsed.key).toBe(each.key);
    for (const bad of [
      '123456789012/eu-west-1',
      '123456789012:eu-west-1',
      '12345678901-eu-west-1',
      '123456789012-',
      '123456789012-eu-west-1-x',
      `123456789012-${'e'.repeat(40)}`,
      {},
    ]) {
      expect(() => parseTargetKey(bad)).toThrow(InvalidTargetError);
    }
  });

  it('keeps every key within the bound and free of separators other engines reserve', () => {
    // Act
    const key = target('999999999999', 'us-isob-northwest-10').key;

    // Assess
    expect(key.length).toBe(TARGET_KEY_MAX_LENGTH);
    expect(key).toMatch(/^[0-9a-z-]+$/);
  });

  it('compares by account, then region, whatever the spelling order', () => {
    // Prepare
    const a = target('111111111111', 'us-east-1');
    const b = target('111111111111', 'eu-west-1');
    const c = target('222222222222', 'ap-south-1');

    // Act
    const sorted = [c, a, b].sort(compareTargets);

    // Assess
    expect(sorted.map((t) => t.key)).toEqual([b.key, a.key, c.key]);
    expect(sameTarget(a, target('111111111111', 'us-east-1'))).toBe(true);
    expect(sameTarget(a, b)).toBe(false);
  });
});

describe('crossTargets', () => {
  it('is every account in every region, de-duplicated, in canonical order', () => {
    // Act
    const targets = crossTargets(
      ['222222222222', '111111111111', '222222222222'],
      ['us-east-1', 'eu-west-1'],
    );

    // Assess
    expect(targets.map((t) => t.key)).toEqual([
      '111111111111-eu-west-1',
      '111111111111-us-east-1',
      '222222222222-eu-west-1',
      '222222222222-us-east-1',
    ]);
  });

  it('fails on one bad value instead of returning the rest', () => {
    expect(() => crossTargets(['111111111111', '../'], ['eu-west-1'])).toThrow(InvalidTargetError);
  });
});

describe('validateTargetSelection', () => {
  it('sorts, de-duplicates and keeps accounts, OUs and the root', () => {
    // Act
    const selection = validateTargetSelection({
      accounts: ['222222222222', '111111111111', '111111111111'],
      organizationalUnits: ['ou-ab12-cdef3456', 'r-ab12'],
      regions: ['us-east-1', 'eu-west-1', 'us-east-1'],
    });

    // Assess
    expect(selection).toEqual({
      accounts: ['111111111111', '222222222222'],
      organizationalUnits: ['ou-ab12-cdef3456', 'r-ab12'],
      regions: ['eu-west-1', 'us-east-1'],
    });
  });

  it('names every bad value at once and returns nothing partial', () => {
    // Act
    const attempt = () =>
      validateTargetSelection({
        accounts: ['111111111111', '11111111111'],
        organizationalUnits: ['ou-../x', 'ou-ab12-cdef3456'],
        regions: ['eu-west-1', 'moon-1'],
      });

    // Assess
    expect(attempt).toThrow(InvalidTargetError);
    expect(attempt).toThrow(/"11111111111".*"ou-\.\.\/x".*"moon-1"/);
  });

  it('requires an account or OU, and a region', () => {
    expect(() => validateTargetSelection({ regions: ['eu-west-1'] })).toThrow(
      /at least one account or organizational unit/,
    );
    expect(() => validateTargetSelection({ accounts: ['111111111111'], regions: [] })).toThrow(
      /at least one region/,
    );
  });

  it('bounds the selection', () => {
    // Prepare
    const accounts = Array.from({ length: 1001 }, (_, i) => String(100000000000 + i));

    // Act / Assess
    expect(() => validateTargetSelection({ accounts, regions: ['eu-west-1'] })).toThrow(
      /At most 1000 accounts/,
    );
  });

  it('rejects hostile OU ids', () => {
    for (const ou of [
      'ou-',
      'ou-ab12-cdef3456/..',
      'OU-AB12-CDEF3456',
      'r-',
      'ou-ab12-cdef345#',
      'ou-ab12-cdef３456',
    ]) {
      expect(isOrganizationalUnitId(ou)).toBe(false);
    }
    expect(isRegion('eu-west-1')).toBe(true);
  });
});

describe('targetExecutionName', () => {
  it('starts with the target key, so the console names the account and region', () => {
    expect(targetExecutionName(target('123456789012', 'eu-west-1'), 'run-2026-12-01')).toBe(
      '123456789012-eu-west-1-run-2026-12-01',
    );
  });

  it('replaces every character Step Functions forbids', () => {
    // Act
    const name = targetExecutionName(
      target('123456789012', 'eu-west-1'),
      'a/b:c d#e%f<g>{h}[i]?*"\\^|~`$&,;é\u0007',
    );

    // Assess
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(name.startsWith('123456789012-eu-west-1-a-b-c-d-e-f')).toBe(true);
  });

  it('stays within 80 characters and keeps long suffixes apart', () => {
    // Prepare
    const each = target('123456789012', 'ap-southeast-2');
    const long = 'x'.repeat(100);

    // Act
    const first = targetExecutionName(each, `${long}-1`);
    const second = targetExecutionName(each, `${long}-2`);

    // Assess
    expect(first.length).toBe(EXECUTION_NAME_MAX_LENGTH);
    expect(second.length).toBe(EXECUTION_NAME_MAX_LENGTH);
    expect(first).not.toBe(second);
    expect(first.startsWith(each.key)).toBe(true);
  });
});

describe('partitionOf', () => {
  it('maps each region family to its partition', () => {
    expect(
      [
        'eu-west-1',
        'cn-north-1',
        'us-gov-west-1',
        'us-iso-east-1',
        'us-isob-east-1',
        'eu-isoe-west-1',
        'us-isof-south-1',
      ].map(partitionOf),
    ).toEqual(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f']);
    expect(() => partitionOf('../x')).toThrow(InvalidTargetError);
  });
});
