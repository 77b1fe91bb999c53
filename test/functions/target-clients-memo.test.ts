/**
 * The member clients' memo: one AssumeRole per target and run, even when Deregister reaches a
 * region's every consumer for each shared AMI (more consumers than the old memo of 32 held).
 */
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../../functions/adapters/clients.ts';
import { MEMOIZED_TARGET_RUNS, memberClientsFactory } from '../../functions/commons/target-clients.ts';
import { target } from '../../functions/core/target.ts';

const consumers = (n: number) =>
  Array.from({ length: n }, (_, i) => target(String(100_000_000_000 + i), 'eu-west-1'));

function countingFactory() {
  const made: string[] = [];
  const clientsFor = memberClientsFactory({
    hubRegion: 'eu-west-1',
    roleName: 'AmiCleanerMemberRole',
    make: (each, options) => {
      made.push(`${each.key}|${options.sessionName}`);
      return {} as AwsClients;
    },
  });
  return { made, clientsFor };
}

describe('member clients memo', () => {
  it('makes each consumer of a 100-account region once, however many AMIs are re-checked', () => {
    // Prepare
    const { made, clientsFor } = countingFactory();
    const region = consumers(100);

    // Act: five shared AMIs, each re-checked in every consumer.
    for (let ami = 0; ami < 5; ami++) for (const each of region) clientsFor(each, 'run-1');

    // Assess
    expect(made).toHaveLength(100);
    expect(new Set(made).size).toBe(100);
  });

  it('past its size forgets the least recently used, never the one in use', () => {
    // Prepare
    const { made, clientsFor } = countingFactory();
    const own = target('999999999999', 'eu-west-1');
    clientsFor(own, 'run-1');

    // Act: the run's own target stays in use while older runs' clients pile up past the memo.
    for (const each of consumers(MEMOIZED_TARGET_RUNS + 10)) {
      clientsFor(each, 'run-0');
      clientsFor(own, 'run-1');
    }

    // Assess: the own target was made once; the oldest of run-0 was forgotten and is made again.
    expect(made.filter((m) => m.startsWith(own.key))).toHaveLength(1);
    const first = consumers(1)[0] as ReturnType<typeof target>;
    clientsFor(first, 'run-0');
    expect(made.filter((m) => m.startsWith(first.key))).toHaveLength(2);
  });
});
