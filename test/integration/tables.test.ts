import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {createAwsClients} from '../../src/aws/clients.js'
import {UserError} from '../../src/core/errors.js'
import {PROJECT_ROOT} from '../../src/core/paths.js'
import {loadSettings} from '../../src/core/settings.js'
import type {TableManifest} from '../../src/core/tables.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {stopLocalS3} from '../../src/storage/local-s3.js'
import {AwsTarget} from '../../src/targets/aws.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'
import {startMoto} from '../helpers/moto.js'
import {freePort} from '../helpers/net.js'

/**
 * DynamoDB tables a benchmark declares: made idempotently where its functions run (moto for AWS, the local store
 * for the local target), reached by the functions through their env and the store's endpoint, and deleted only
 * when asked.
 */
const LOCK_TABLE: TableManifest = {
  name: `locks-${process.pid}`,
  partitionKey: {name: 'lock_key', type: 'S'},
  sortKey: {name: 'sort_key', type: 'S'},
  ttlAttribute: 'expiry_time',
}

test('AWS: tables are created on demand, found unchanged, refused when their keys differ, deleted', async () => {
  const moto = await startMoto()
  // The SDK reads its endpoint and credentials from the process's env, as a user's shell gives them.
  const saved = {...process.env}
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
  })
  try {
    const settings = loadSettings(process.env)
    const target = new AwsTarget({clients: createAwsClients(settings), settings})
    const dynamodb = new DynamoDBClient({
      endpoint: moto.url,
      region: 'us-east-1',
      credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    })
    const made = await target.ensureTables([LOCK_TABLE], () => {})
    assert.equal(
      made.map((t) => t.action),
      ['created'],
    )
    const {Table} = await dynamodb.send(new DescribeTableCommand({TableName: LOCK_TABLE.name}))
    assert.is(Table!.TableStatus, 'ACTIVE')
    assert.is(Table!.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST')
    assert.equal(
      Table!.KeySchema!.map((k) => [k.AttributeName, k.KeyType]),
      [
        ['lock_key', 'HASH'],
        ['sort_key', 'RANGE'],
      ],
    )
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({TableName: LOCK_TABLE.name}))
    assert.is(ttl.TimeToLiveDescription?.AttributeName, 'expiry_time')
    assert.equal(
      (await target.ensureTables([LOCK_TABLE], () => {})).map((t) => t.action),
      ['unchanged'],
    )
    const clash = await target
      .ensureTables([{...LOCK_TABLE, sortKey: undefined}], () => {})
      .catch((error: unknown) => error)
    assert.instance(clash, UserError)
    assert.match(
      (clash as UserError).paragraph,
      /exists with keys lock_key \(S\), sort_key \(S\), but the manifest declares lock_key \(S\)\..*faas destroy/,
    )
    assert.equal(await target.destroyTables([LOCK_TABLE.name], () => {}), [
      {name: LOCK_TABLE.name, kind: 'table', action: 'deleted'},
    ])
    assert.equal(await target.destroyTables([LOCK_TABLE.name], () => {}), [
      {name: LOCK_TABLE.name, kind: 'table', action: 'absent'},
    ])
  } finally {
    process.env = saved
    await moto.stop()
  }
})

/** A function that counts in its table with a conditional write, up to a cap: its answer says what DynamoDB did. */
const COUNTER = `import os
import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def lambda_handler(event, context):
    try:
        item = table.update_item(
            Key={"lock_key": event["key"], "sort_key": "count"},
            UpdateExpression="ADD n :one",
            ConditionExpression="attribute_not_exists(n) OR n < :cap",
            ExpressionAttributeValues={":one": 1, ":cap": event["cap"]},
            ReturnValues="UPDATED_NEW",
        )
        return {"n": int(item["Attributes"]["n"])}
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return {"rejected": True}
`

function benchmarkFolder(root: string, name: string, table: TableManifest): string {
  const dir = join(root, name)
  mkdirSync(join(dir, 'docker'), {recursive: true})
  mkdirSync(join(dir, 'counter'))
  writeFileSync(join(dir, 'counter', 'handler.py'), COUNTER)
  writeFileSync(
    join(dir, 'docker', 'Dockerfile.Lambda'),
    'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG FUNCTION\nCOPY ${FUNCTION}/ ${LAMBDA_TASK_ROOT}/\n',
  )
  const {name: tableName, ...keys} = table
  writeFileSync(
    join(dir, 'benchmark.json'),
    JSON.stringify({
      name,
      tables: {[tableName]: keys},
      functions: {
        counter: {memory: 256, timeout: 30, policies: ['access_dynamodb'], env: {TABLE: `\${table:${tableName}}`}},
      },
    }),
  )
  return dir
}

/** A FAAS_HOME of its own and free ports for the local service and store, on the host's architecture. */
async function localTarget(prefix: string) {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const s3Port = String(await freePort())
  const env = {
    FAAS_HOME: join(root, 'home'),
    FAAS_LOCAL_PORT: String(await freePort()),
    FAAS_LOCAL_S3_PORT: s3Port,
    FAAS_TARGET: 'local',
    FAAS_BASE_IMAGE: 'local',
    FAAS_PLATFORM: process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64',
  }
  return {root, s3Port, env}
}

test('local: deploy puts the table in the local store; functions and the host reach it; destroy drops it', async () => {
  const {root, s3Port, env} = await localTarget('faas-tables-')
  const dir = benchmarkFolder(root, `tables-${process.pid}`, LOCK_TABLE)
  try {
    const built = await faas(['build', dir], {env})
    assert.is(built.exitCode, 0, built.stderr)
    const first = await faasJson(['deploy', dir], {env})
    assert.is(first.exitCode, 0, first.stderr)
    assert.equal(
      first.result.tables.map((t: {name: string; action: string}) => [t.name, t.action]),
      [[LOCK_TABLE.name, 'created']],
    )
    const again = await faasJson(['deploy', dir], {env})
    assert.is(again.exitCode, 0, again.stderr)
    assert.equal(again.result.tables[0].action, 'unchanged')
    assert.equal(again.result.functions[0].action, 'unchanged')

    // The function counts with a conditional write: twice accepted, then refused at the cap.
    const answers = []
    for (let i = 0; i < 3; i++) {
      const call = await faasJson(
        ['invoke', '-f', `tables-${process.pid}-counter`, '--payload', '{"key":"hotel-1","cap":2}'],
        {env},
      )
      assert.is(call.exitCode, 0, call.stderr)
      answers.push(JSON.parse(call.result.payload))
    }
    assert.equal(answers, [{n: 1}, {n: 2}, {rejected: true}])

    // The host reaches the same table through the endpoints `faas local credentials` exports.
    const exported = await faas(['local', 'credentials'], {env})
    const endpoint = /^export AWS_ENDPOINT_URL_DYNAMODB=(\S+)$/m.exec(exported.stdout)?.[1]
    assert.ok(endpoint, exported.stdout)
    assert.match(exported.stdout, /^export AWS_ENDPOINT_URL_S3=/m)
    const host = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: {accessKeyId: 'local', secretAccessKey: 'local'},
    })
    const key = {lock_key: {S: 'hotel-1'}, sort_key: {S: 'count'}}
    const {Item} = await host.send(new GetItemCommand({TableName: LOCK_TABLE.name, Key: key}))
    assert.equal(Item?.n, {N: '2'})

    // Another benchmark declaring the same table with other keys is refused before its function exists.
    const other = benchmarkFolder(root, `tables-other-${process.pid}`, {...LOCK_TABLE, sortKey: undefined})
    assert.is((await faas(['build', other], {env})).exitCode, 0)
    assertUserError(await faas(['deploy', other], {env}), /exists with keys lock_key \(S\), sort_key \(S\)/)
    assertUserError(
      await faas(['invoke', '-f', `tables-other-${process.pid}-counter`, '--payload', '{}'], {env}),
      /There is no function tables-other-/,
    )

    // destroy keeps the data unless asked; --tables deletes it.
    const kept = await faasJson(['destroy', dir, '--yes'], {env})
    assert.not.ok(kept.result.outcomes.some((o: {kind: string}) => o.kind === 'table'))
    assert.ok((await host.send(new GetItemCommand({TableName: LOCK_TABLE.name, Key: key}))).Item)
    const gone = await faasJson(['destroy', dir, '--tables', '--yes'], {env})
    assert.equal(
      gone.result.outcomes.filter((o: {kind: string}) => o.kind === 'table'),
      [{name: LOCK_TABLE.name, kind: 'table', action: 'deleted'}],
    )
  } finally {
    await faas(['local', 'stop'], {env})
    await stopLocalS3(new DockerEngine(), s3Port)
    rmSync(root, {recursive: true, force: true})
  }
})

/** API Gateway's REST event (payload format 1.0) for a method and path, with a JSON body. */
const restEvent = (httpMethod: string, path: string, body?: unknown) =>
  JSON.stringify({
    resource: path,
    path,
    httpMethod,
    headers: {'content-type': 'application/json'},
    multiValueHeaders: {'content-type': ['application/json']},
    queryStringParameters: null,
    pathParameters: null,
    requestContext: {resourcePath: path, httpMethod, path: `/dev${path}`, stage: 'dev', requestId: 'r-1'},
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
  })

test('an application written by others runs unchanged: Powertools REST routes with DynamoDB idempotency', async () => {
  const {root, s3Port, env} = await localTarget('faas-powertools-')
  const dir = join(PROJECT_ROOT, 'test', 'fixtures', 'powertools-orders')
  try {
    assert.is((await faas(['build', dir], {env})).exitCode, 0)
    const deployed = await faasJson(['deploy', dir], {env})
    assert.is(deployed.exitCode, 0, deployed.stderr)
    const call = async (event: string) => {
      const out = await faasJson(['invoke', '-f', 'powertools-orders-orders', '--payload', event], {env})
      assert.is(out.exitCode, 0, out.stderr)
      return JSON.parse(out.result.payload) as {statusCode: number; body: string}
    }
    const order = {item: 'book', quantity: 2}
    const first = await call(restEvent('POST', '/orders', order))
    assert.is(first.statusCode, 200, first.body)
    const placed = JSON.parse(first.body)
    assert.equal({...placed, orderId: undefined}, {orderId: undefined, item: 'book', quantity: 2})
    // The same order again is answered from the idempotency record, not placed twice.
    assert.equal(JSON.parse((await call(restEvent('POST', '/orders', order))).body), placed)
    const other = JSON.parse((await call(restEvent('POST', '/orders', {item: 'pen', quantity: 1}))).body)
    assert.is.not(other.orderId, placed.orderId)
    assert.equal(JSON.parse((await call(restEvent('GET', '/orders/o-7'))).body), {orderId: 'o-7'})
    assert.is((await call(restEvent('GET', '/nowhere'))).statusCode, 404)

    const exported = await faas(['local', 'credentials'], {env})
    const endpoint = /^export AWS_ENDPOINT_URL_DYNAMODB=(\S+)$/m.exec(exported.stdout)![1]
    const host = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: {accessKeyId: 'local', secretAccessKey: 'local'},
    })
    const {Items = []} = await host.send(new ScanCommand({TableName: 'powertools-idempotency'}))
    assert.is(Items.length, 2, 'one record per distinct order')
    assert.ok(Items.every((i) => i.status?.S === 'COMPLETED' && Number(i.expiration?.N) > Date.now() / 1000))
  } finally {
    await faas(['destroy', dir, '--tables', '--yes'], {env})
    await faas(['local', 'stop'], {env})
    await stopLocalS3(new DockerEngine(), s3Port)
    rmSync(root, {recursive: true, force: true})
  }
})

test.run()
