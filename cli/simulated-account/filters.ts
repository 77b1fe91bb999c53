import type { Filter } from '@aws-sdk/client-ec2';
import { SimulatedAwsError } from './errors.ts';

/** How one filter name reads its values from a resource (several values: any may match). */
export type FilterField<T> = (item: T) => readonly (string | undefined)[];

export interface FilterDefinition<T> {
  readonly fields: Readonly<Record<string, FilterField<T>>>;
  /** Tags, for the generic `tag:<key>` and `tag-key` filters. */
  readonly tags: (item: T) => Readonly<Record<string, string>>;
}

/**
 * EC2 filter semantics: values of one filter are ORed, filters are ANDed, `*` and `?` are
 * wildcards, matching is case-sensitive. An unknown filter name is an error (AWS rejects it), so a
 * typo in an adapter fails loudly instead of silently matching everything.
 */
export function compileFilters<T>(
  filters: readonly Filter[] | undefined,
  definition: FilterDefinition<T>,
): (item: T) => boolean {
  if (filters === undefined || filters.length === 0) return () => true;
  const tests = filters.map((filter) => {
    const name = filter.Name ?? '';
    const matchers = (filter.Values ?? []).map(valueMatcher);
    let read: FilterField<T>;
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      read = (item) => [definition.tags(item)[key]];
    } else if (name === 'tag-key') {
      read = (item) => Object.keys(definition.tags(item));
    } else {
      const field = definition.fields[name];
      if (field === undefined) {
        throw new SimulatedAwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      }
      read = field;
    }
    return (item: T) =>
      read(item).some((value) => value !== undefined && matchers.some((matches) => matches(value)));
  });
  return (item) => tests.every((test) => test(item));
}

export function valueMatcher(pattern: string): (value: string) => boolean {
  if (!/[*?]/.test(pattern)) return (value) => value === pattern;
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}
