import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {pollUntil} from '../../src/core/wait.js'
import {createFixtureFunction, localServiceSuite, type LocalSuiteContext} from '../helpers/local-suite.js'

/**
 * Lambda's execution environment and limits, with real containers: filesystem, log format, queue and throttling.
 * A queue of 2 calls per function, each waiting at most 1 s: small enough to reach in a test.
 */
const test = localServiceSuite('local limits', {
  maxEnvironmentsPerFunction: 1,
  maxQueuedPerFunction: 2,
  queueTimeoutMs: 1000,
})
const deploy = (ctx: LocalSuiteContext, name: string, handler: string, extra: Record<string, unknown> = {}) =>
  createFixtureFunction(ctx, name, handler, {MemorySize: 1024, Timeout: 60, ...extra})

async function invoke(ctx: {lambda: LambdaClient}, name: string, payload: unknown = {}) {
  const out = await ctx.lambda.send(
    new InvokeCommand({FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail'}),
  )
  const body = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8')
  return {functionError: out.FunctionError, json: body ? JSON.parse(body) : undefined, log, report: parseReport(log)}
}

test('the filesystem is read-only but /tmp, as on Lambda: writing /var/task gives EROFS', async (ctx) => {
  await deploy(ctx, 'fs', 'handler.write_file')
  const task = await invoke(ctx, 'fs', {path: '/var/task/new.txt'})
  assert.equal(task.json, {ok: false, errno: 'EROFS', written_mb: 0})
  const tmp = await invoke(ctx, 'fs', {path: '/tmp/ok.bin', mb: 8})
  assert.equal(tmp.json, {ok: true, written_mb: 8})
})

test('/tmp is sized by the ephemeral storage: filling it gives ENOSPC at that size', async (ctx) => {
  await deploy(ctx, 'fill', 'handler.write_file', {EphemeralStorage: {Size: 512}})
  const out = await invoke(ctx, 'fill', {path: '/tmp/fill.bin', mb: 600})
  assert.is(out.json.ok, false)
  assert.is(out.json.errno, 'ENOSPC')
  assert.ok(out.json.written_mb >= 500 && out.json.written_mb <= 512, `stopped at 512 MB: ${out.json.written_mb}`)
  const config = await ctx.lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'fill'}))
  assert.equal(config.EphemeralStorage, {Size: 512})
})

test('/tmp is disk, not memory: 512 MB fill a 256 MB function (ENOSPC, no OOM, Max Memory Used flat)', async (ctx) => {
  assert.is(ctx.service.health().tmp, 'disk', 'this engine gives disk-backed /tmp (loop devices)')
  await deploy(ctx, 'small-fill', 'handler.write_file', {MemorySize: 256})
  const before = await invoke(ctx, 'small-fill', {path: '/tmp/one.bin', mb: 1})
  assert.equal(before.json, {ok: true, written_mb: 1})
  // Kept on /tmp (as a downloaded model would be): its page cache is there when the peak is read.
  const out = await invoke(ctx, 'small-fill', {path: '/tmp/fill.bin', mb: 600, cleanup: false})
  assert.is(out.functionError, undefined, out.log)
  assert.is(out.json.errno, 'ENOSPC', JSON.stringify(out.json))
  assert.ok(out.json.written_mb >= 500 && out.json.written_mb <= 512, `stopped at 512 MB: ${out.json.written_mb}`)
  const [peak, base] = [out.report?.maxMemoryUsedMb, before.report?.maxMemoryUsedMb]
  assert.ok(peak !== undefined && base !== undefined, out.log)
  // The file (twice the memory) is page cache at most: reclaimable and not counted, as on Lambda.
  assert.ok(peak <= base + 32, `Max Memory Used ${base} MB, then ${peak} MB after writing /tmp`)
  // The environment lived on (no OOM): the same one answers again, its /tmp usable.
  const again = await invoke(ctx, 'small-fill', {path: '/tmp/fill.bin', mb: 4})
  assert.equal(again.json, {ok: true, written_mb: 4})
  assert.is(again.report?.initDurationMs, undefined, 'warm: the environment was not replaced')
})

test('a larger EphemeralStorage lets more through; the root filesystem stays read-only', async (ctx) => {
  await deploy(ctx, 'big-tmp', 'handler.write_file', {MemorySize: 256, EphemeralStorage: {Size: 1024}})
  const out = await invoke(ctx, 'big-tmp', {path: '/tmp/fill.bin', mb: 1100})
  assert.is(out.json.errno, 'ENOSPC', JSON.stringify(out.json))
  assert.ok(out.json.written_mb >= 1000 && out.json.written_mb <= 1024, `stopped at 1024 MB: ${out.json.written_mb}`)
  const root = await invoke(ctx, 'big-tmp', {path: '/var/task/new.txt'})
  assert.equal(root.json, {ok: false, errno: 'EROFS', written_mb: 0})
})

test('JSON log format: Lambda-shaped platform.start and platform.report, read back as REPORT figures', async (ctx) => {
  await deploy(ctx, 'json-log', 'handler.log_json', {LoggingConfig: {LogFormat: 'JSON'}})
  const cold = await invoke(ctx, 'json-log', {value: 7})
  assert.equal(cold.json, {format: 'JSON'}, 'the runtime is told (AWS_LAMBDA_LOG_FORMAT)')
  const records = cold.log
    .split('\n')
    .filter((l) => l.startsWith('{"time"'))
    .map((l) => JSON.parse(l))
  const start = records.find((r) => r.type === 'platform.start')
  const report = records.find((r) => r.type === 'platform.report')
  assert.ok(start && report, cold.log)
  assert.equal(Object.keys(report.record).sort(), ['metrics', 'requestId', 'status'])
  assert.equal(Object.keys(report.record.metrics).sort(), [
    'billedDurationMs',
    'durationMs',
    'initDurationMs',
    'maxMemoryUsedMB',
    'memorySizeMB',
  ])
  assert.is(report.record.status, 'success')
  assert.is(start.record.requestId, report.record.requestId)
  assert.ok(
    Number(cold.report?.initDurationMs) > 0 && cold.report?.memorySizeMb === 1024,
    'parseReport reads the JSON record',
  )
  assert.not.match(cold.log, /^REPORT /m, 'no Text REPORT line')
  const warm = await invoke(ctx, 'json-log', {value: 8})
  assert.is(warm.report?.initDurationMs, undefined)
  assert.ok(warm.report?.durationMs !== undefined)
})

test('past the environment limit, calls wait in a bounded queue, bounded in time, then get a 429', async (ctx) => {
  await deploy(ctx, 'queue', 'handler.slow')
  await invoke(ctx, 'queue', {seconds: 0}) // the one environment is up and warm
  const outcomes = await Promise.allSettled(Array.from({length: 5}, () => invoke(ctx, 'queue', {seconds: 3})))
  const done = outcomes.filter((o) => o.status === 'fulfilled')
  const throttled = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []))
  assert.is(done.length, 1, 'one runs; two wait past the queue timeout; two find the queue full')
  assert.is(throttled.length, 4)
  for (const error of throttled) {
    assert.instance(error, TooManyRequestsException)
    assert.is(error.$metadata.httpStatusCode, 429)
    assert.is(error.Reason, 'ConcurrentInvocationLimitExceeded')
  }
})

test('past reserved concurrency a call is throttled; an Event at 0 is retried, runs once it is raised', async (ctx) => {
  await deploy(ctx, 'reserved', 'handler.count')
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'reserved', ReservedConcurrentExecutions: 0}))
  const sync = await invoke(ctx, 'reserved').catch((error) => error)
  assert.instance(sync, TooManyRequestsException)
  assert.is(sync.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded')
  const event = await ctx.lambda.send(
    new InvokeCommand({FunctionName: 'reserved', InvocationType: 'Event', Payload: Buffer.from('{}')}),
  )
  assert.is(event.StatusCode, 202, 'accepted, as Lambda does (it keeps throttled events up to the maximum event age)')
  const throttled = await pollUntil(
    async () => (ctx.service.logs.get('reserved') ?? []).some((l) => /throttled .*retried in 1 s/.test(l)),
    {timeoutMs: 30_000},
  )
  assert.ok(throttled, 'the event is throttled and goes back to the queue, to be tried again after 1 s')
  assert.is(ctx.service.async.size, 1, 'queued for its next try')
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'reserved', ReservedConcurrentExecutions: 1}))
  const ran = await pollUntil(
    async () => (ctx.service.logs.get('reserved') ?? []).some((l) => l.startsWith('handled ')),
    {timeoutMs: 120_000},
  )
  assert.ok(ran, 'the throttled event ran once concurrency was raised')
  await pollUntil(async () => ctx.service.async.size === 0, {timeoutMs: 30_000})
  assert.is(ctx.service.async.size, 0)
})

test.run()
