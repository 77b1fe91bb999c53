/** Building update expressions and marshallable values; shared by the run and item stores. */
import type { DocItem } from './table.ts';

/** Drops undefined fields (the document client refuses them unless told otherwise). */
export function compact(fields: object): DocItem {
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([k, v]) => [k, plain(v)]),
  );
}

/** A deep copy without undefined values or class instances, safe to marshall. */
export function plain<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** `SET #a0 = :a0, ...` with every name aliased (status, ttl and friends are reserved words). */
export function setExpression(fields: DocItem): {
  expression: string;
  names: Record<string, string>;
  values: DocItem;
} {
  const names: Record<string, string> = {};
  const values: DocItem = {};
  const parts = Object.entries(fields).map(([key, value], i) => {
    names[`#a${i}`] = key;
    values[`:a${i}`] = value;
    return `#a${i} = :a${i}`;
  });
  return { expression: `SET ${parts.join(', ')}`, names, values };
}

/** `#<name> IN (:<prefix>0, ...)`, adding the placeholders to `names` and `values`. */
export function statusIn(
  alias: string,
  statuses: readonly string[],
  names: Record<string, string>,
  values: DocItem,
): string {
  names[alias] = 'status';
  const placeholders = statuses.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  return `${alias} IN (${placeholders.join(', ')})`;
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
