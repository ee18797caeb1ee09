import {DynamoDBClient} from '@aws-sdk/client-dynamodb'

import {createAwsClients} from '../aws/clients.js'
import {deleteTable, ensureTable, putItems, scanItems} from '../aws/dynamodb.js'
import type {Emit} from '../core/events.js'
import type {Settings} from '../core/settings.js'
import type {TableManifest, TableOutcome} from '../core/tables.js'
import {destroyEach} from './destroy-each.js'
import {localS3Endpoint} from './local-s3.js'

/**
 * The DynamoDB a target's functions use: the account's, or the local store's (the same moto server that serves the
 * local S3 store answers DynamoDB on its endpoint; any credentials do there).
 */
export function dynamodbFor(kind: 'local' | 'aws', settings: Settings): DynamoDBClient {
  if (kind === 'aws') return createAwsClients(settings).dynamodb
  return new DynamoDBClient({
    endpoint: localS3Endpoint(),
    region: settings.region ?? 'us-east-1',
    credentials: {accessKeyId: 'local', secretAccessKey: 'local'},
  })
}

/** Each declared table made (or found as declared) and ACTIVE, a few at a time. */
export async function ensureTables(
  client: DynamoDBClient,
  tables: TableManifest[],
  emit: Emit,
): Promise<TableOutcome[]> {
  return Promise.all(tables.map((table) => ensureTable(client, table, emit)))
}

/** Deletes the tables (their data is lost); what was not there is 'absent'. */
export function destroyTables(client: DynamoDBClient, names: string[], emit: Emit) {
  return destroyEach('table', names, (name) => deleteTable(client, name), emit)
}

/** Items of the client's tables as plain JSON (a run's checker seeds and reads them through this). */
export function tableItems(client: DynamoDBClient) {
  return {
    put: (table: string, items: object[]) => putItems(client, table, items),
    scan: (table: string) => scanItems(client, table),
  }
}
