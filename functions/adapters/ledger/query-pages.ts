/** Every page of a Query, through the SDK's paginator. */
import { paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DocItem, LedgerTable } from './table.ts';

export type LedgerQuery = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>;

/**
 * Reads every page of `query` (or pages until `limit` items), in the order DynamoDB returns them.
 * A failed page rejects the whole call: a caller never sees part of a result as if it were all.
 */
export async function queryAll(
  table: LedgerTable,
  query: LedgerQuery,
  options: { readonly limit?: number } = {},
): Promise<DocItem[]> {
  const { limit } = options;
  const sizes = [limit, table.queryPageSize].filter((size): size is number => size !== undefined);
  const pageSize = sizes.length > 0 ? Math.min(...sizes) : undefined;
  const pages = paginateQuery(
    { client: table.doc, ...(pageSize === undefined ? {} : { pageSize }) },
    { ...query, TableName: table.tableName },
  );
  const items: DocItem[] = [];
  for await (const page of pages) {
    for (const item of page.Items ?? []) items.push(item);
    // Leaving the loop ends the paginator: no page is read beyond the limit.
    if (limit !== undefined && items.length >= limit) return items.slice(0, limit);
  }
  return items;
}
