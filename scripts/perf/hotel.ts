/**
 * hotel-reservation under DeathStarBench's mix, and the local data path's cost (figures printed, never asserted):
 *   node --import tsx scripts/perf/hotel.ts [--rates 50,200,500] [--seconds 10] [--platform linux/amd64]
 * 1. For each rate, `faas run hotel-reservation` open loop at that rate on the local target: the achieved rate,
 *    p50/p99 per operation, throttles, lock retries and rejected reservations, and whether the run's invariants
 *    held (its checker: answers as the reference, no night past capacity, each reservation stored once).
 * 2. GetItem, PutItem and a conditional UpdateItem p50/p99 from a function on the local service (boto3, through
 *    the functions' network to the local store) beside the same calls from the host (the JS SDK, loopback).
 * Smoke mode (FAAS_PERF_SMOKE=1): one rate of 20 rps for 2 s, 10 calls of each kind.
 */
import {arch} from 'node:os'
import {parseArgs} from 'node:util'

import {GetItemCommand, PutItemCommand, UpdateItemCommand} from '@aws-sdk/client-dynamodb'

import {percentile} from '../../src/bench/stats.js'
import {silent} from '../../src/core/events.js'
import {projectPath} from '../../src/core/paths.js'
import {parsePlatform} from '../../src/core/platform.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {stopLocalService} from '../../src/local/service-process.js'
import {runBenchmark} from '../../src/run/run.js'
import {stopLocalS3} from '../../src/storage/local-s3.js'
import {dynamodbFor} from '../../src/storage/tables.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    rates: {type: 'string', default: sized('50,200,500', '20')},
    seconds: {type: 'string', default: sized('10', '2')},
    platform: {type: 'string', default: arch() === 'arm64' ? 'linux/arm64' : 'linux/amd64'},
  },
})
const settings = loadSettings()
const platform = parsePlatform(values.platform)
const calls = sized(200, 10)

const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
const ms = (value: number) => value.toFixed(1).padStart(7)

const run = (benchmark: string, payload: unknown) =>
  runBenchmark(
    settings,
    {benchmark, target: 'local', platform, tag: 'perf', baseImage: 'local', seed: 1, params: {}, payload},
    silent,
  )

interface HotelOutput {
  achievedRps: number
  throttles: number
  lockRetries: number
  latenessP99Ms: number
  reservations: {accepted: number; rejected: Record<string, number>}
  latencyMs: Record<string, {p50: number; p99: number}>
}

for (const rate of values.rates.split(',').map(Number)) {
  const requests = Math.round(rate * Number(values.seconds))
  const record = await run('hotel-reservation', {requests, rps: rate, concurrency: sized(128, 8), hotels: 40})
  const out = record.output as HotelOutput
  console.log(
    `hotel-reservation ${platform} at ${rate} rps (${requests} requests + the reservation burst): achieved ` +
      `${out.achievedRps} rps, lateness p99 ${out.latenessP99Ms} ms, correct=${record.correct}`,
  )
  for (const [op, l] of Object.entries(out.latencyMs).sort())
    console.log(`  ${op.padEnd(10)} p50 ${ms(l.p50)} ms  p99 ${ms(l.p99)} ms`)
  console.log(
    `  throttles ${out.throttles}, lock retries ${out.lockRetries}, reservations accepted ` +
      `${out.reservations.accepted}, rejected ${JSON.stringify(out.reservations.rejected)}`,
  )
}

// The same calls from a function and from the host, against the same local store.
const fromFunction = (await run(projectPath('test', 'fixtures', 'dynamodb-timing'), {calls})).output as Record<
  string,
  number[]
>
const dynamodb = dynamodbFor('local', settings)
const TableName = 'faas-perf-items'
const Key = {id: {S: 'host'}}
await dynamodb.send(new PutItemCommand({TableName, Item: {...Key, n: {N: '0'}}}))
const fromHost: Record<string, number[]> = {GetItem: [], PutItem: [], 'UpdateItem (conditional)': []}
const timed = async (kind: string, call: () => Promise<unknown>) => {
  const started = performance.now()
  await call()
  fromHost[kind]!.push(performance.now() - started)
}
for (let n = 0; n < calls; n++) {
  await timed('GetItem', () => dynamodb.send(new GetItemCommand({TableName, Key, ConsistentRead: true})))
  await timed('PutItem', () =>
    dynamodb.send(new PutItemCommand({TableName, Item: {id: {S: `host-${n}`}, n: {N: '0'}}})),
  )
  await timed('UpdateItem (conditional)', () =>
    dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key,
        UpdateExpression: 'SET n = n + :one',
        ConditionExpression: 'n < :max',
        ExpressionAttributeValues: {':one': {N: '1'}, ':max': {N: '1000000'}},
      }),
    ),
  )
}
console.log(`DynamoDB calls to the local store, ${calls} of each (ms):`)
for (const kind of Object.keys(fromHost)) {
  const f = sorted(fromFunction[kind] ?? [])
  const h = sorted(fromHost[kind]!)
  console.log(
    `  ${kind.padEnd(25)} function p50 ${ms(percentile(f, 50))} p99 ${ms(percentile(f, 99))}   ` +
      `host p50 ${ms(percentile(h, 50))} p99 ${ms(percentile(h, 99))}`,
  )
}
dynamodb.destroy()
await stopLocalService({}, silent)
await stopLocalS3(new DockerEngine())
