import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  paginateScan,
  type WriteRequest,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb'
import {marshall, unmarshall} from '@aws-sdk/util-dynamodb'
import {setTimeout as delay} from 'node:timers/promises'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import type {TableKey, TableManifest, TableOutcome} from '../core/tables.js'
import {aws} from './errors.js'

/** How long a table may take to become ACTIVE (on AWS, seconds; a large restore can take longer). */
const WAIT_S = 300

const isNotFound = (error: unknown) => (error as {name?: string})?.name === 'ResourceNotFoundException'

async function describeTable(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({TableName: name}))
    return out.Table
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

const keysOf = (t: TableManifest): TableKey[] => [t.partitionKey, ...(t.sortKey ? [t.sortKey] : [])]

/** The table's keys as "key (S), sort_key (N)", for messages. */
const describeKeys = (keys: TableKey[]) => keys.map((k) => `${k.name} (${k.type})`).join(', ')

/** The keys an existing table has, read back from DescribeTable in partition, sort order. */
function existingKeys(table: TableDescription): TableKey[] {
  const types = new Map((table.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]))
  return [...(table.KeySchema ?? [])]
    .sort((a) => (a.KeyType === 'HASH' ? -1 : 1))
    .map((k) => ({name: k.AttributeName!, type: types.get(k.AttributeName) as TableKey['type']}))
}

/**
 * The declared table, made if absent (on-demand billing) and waited for until ACTIVE; an existing table with other
 * keys is refused, never changed (its data is someone's). Idempotent: a second call finds it and writes nothing.
 */
export async function ensureTable(client: DynamoDBClient, table: TableManifest, emit: Emit): Promise<TableOutcome> {
  const subject = `table ${table.name}`
  let existing = await aws(`describe table ${table.name} (dynamodb:DescribeTable)`, () =>
    describeTable(client, table.name),
  )
  let action: TableOutcome['action'] = 'unchanged'
  if (!existing) {
    emit({kind: 'start', subject, message: `Creating table ${table.name}…`})
    await aws(`create table ${table.name} (dynamodb:CreateTable)`, async () => {
      try {
        await client.send(
          new CreateTableCommand({
            TableName: table.name,
            BillingMode: 'PAY_PER_REQUEST',
            KeySchema: keysOf(table).map((k, i) => ({AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE'})),
            AttributeDefinitions: keysOf(table).map((k) => ({AttributeName: k.name, AttributeType: k.type})),
          }),
        )
      } catch (error) {
        // Another deploy made it first: converge on theirs (its keys are checked below).
        if ((error as {name?: string})?.name !== 'ResourceInUseException') throw error
      }
    })
    action = 'created'
  }
  if (existing?.TableStatus !== 'ACTIVE') {
    await aws(`wait for table ${table.name} to be ACTIVE`, () =>
      waitUntilTableExists({client, maxWaitTime: WAIT_S}, {TableName: table.name}),
    )
    existing = await describeTable(client, table.name)
  }
  const have = existingKeys(existing!)
  if (describeKeys(have) !== describeKeys(keysOf(table)))
    throw new UserError(
      `Table ${table.name} exists with keys ${describeKeys(have)}, but the manifest declares ` +
        `${describeKeys(keysOf(table))}.`,
      {
        code: 'TABLE_CLASH',
        fix:
          'Name the table differently in the manifest, or, if its data may go, delete it (faas destroy ' +
          '<benchmark> --tables) and deploy again.',
      },
    )
  if (table.ttlAttribute && (await ensureTtl(client, table.name, table.ttlAttribute)) && action === 'unchanged')
    action = 'updated'
  emit({kind: 'done', subject, message: `table ${table.name} ${action}`})
  return {name: table.name, arn: existing!.TableArn, action}
}

/** Turns time to live on for the attribute; whether it wrote anything. */
async function ensureTtl(client: DynamoDBClient, name: string, attribute: string): Promise<boolean> {
  const ttl = await aws(`read the TTL of table ${name} (dynamodb:DescribeTimeToLive)`, () =>
    client.send(new DescribeTimeToLiveCommand({TableName: name})),
  )
  const now = ttl.TimeToLiveDescription
  if (now?.AttributeName === attribute && /^ENABL/.test(now.TimeToLiveStatus ?? '')) return false
  await aws(`turn on TTL of table ${name} (dynamodb:UpdateTimeToLive)`, () =>
    client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: {AttributeName: attribute, Enabled: true},
      }),
    ),
  )
  return true
}

/** Deletes the table and waits until it is gone; 'absent' when there was none. Its data is lost. */
export async function deleteTable(client: DynamoDBClient, name: string): Promise<'deleted' | 'absent'> {
  try {
    await aws(`delete table ${name} (dynamodb:DeleteTable)`, () =>
      client.send(new DeleteTableCommand({TableName: name})),
    )
  } catch (error) {
    if (isNotFound(error)) return 'absent'
    throw error
  }
  await aws(`wait for table ${name} to be deleted`, () =>
    waitUntilTableNotExists({client, maxWaitTime: WAIT_S}, {TableName: name}),
  )
  return 'deleted'
}

/** BatchWriteItem's limit of items per call. */
const BATCH_ITEMS = 25

/**
 * Writes plain JSON items (numbers, strings, lists, maps) to the table, 25 a call, resending what DynamoDB leaves
 * unprocessed under throttling until all are written. Returns how many were written.
 */
export async function putItems(client: DynamoDBClient, table: string, items: object[]): Promise<number> {
  for (let i = 0; i < items.length; i += BATCH_ITEMS) {
    let pending: WriteRequest[] = items
      .slice(i, i + BATCH_ITEMS)
      .map((item) => ({PutRequest: {Item: marshall(item, {removeUndefinedValues: true})}}))
    for (let attempt = 0; pending.length > 0; attempt++) {
      // DynamoDB's advice for unprocessed items: back off exponentially before resending them.
      if (attempt > 0) await delay(Math.min(2000, 50 * 2 ** attempt))
      const out = await aws(`write items to table ${table} (dynamodb:BatchWriteItem)`, () =>
        client.send(new BatchWriteItemCommand({RequestItems: {[table]: pending}})),
      )
      pending = out.UnprocessedItems?.[table] ?? []
    }
  }
  return items.length
}

/** Every item of the table, as plain JSON, read with consistent reads page by page. */
export async function scanItems(client: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = []
  await aws(`read table ${table} (dynamodb:Scan)`, async () => {
    for await (const page of paginateScan({client}, {TableName: table, ConsistentRead: true}))
      for (const item of page.Items ?? []) items.push(unmarshall(item))
  })
  return items
}
