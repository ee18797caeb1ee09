import {
  DeleteFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {LABEL} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import {waitFor} from '../helpers/wait.js'
import {lambdaClient, signedFetch} from '../helpers/local.js'
import {createFixtureFunction, engine, localServiceSuite} from '../helpers/local-suite.js'

/** The local Lambda service with real containers, driven through real SDKs. */
const test = localServiceSuite('local service', {idleTimeoutMs: 60_000, s3Endpoint: 'http://127.0.0.1:5050'})
const deploy = createFixtureFunction

async function invoke(ctx: {lambda: LambdaClient}, name: string, payload: unknown = {}) {
  const out = await ctx.lambda.send(
    new InvokeCommand({FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail'}),
  )
  const body = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8')
  return {
    status: out.StatusCode,
    functionError: out.FunctionError,
    body,
    json: body ? JSON.parse(body) : undefined,
    log,
    report: parseReport(log),
  }
}

async function raw(
  ctx: {service: LocalService},
  path: string,
  init: {method?: string; body?: string; headers?: Record<string, string>} = {},
) {
  const res = await signedFetch(ctx.service, path, init)
  return {status: res.status, headers: res.headers, body: await res.text()}
}

test("a function's variables, network (service, S3) and no AWS keys; a cold log tail has init lines", async (ctx) => {
  await deploy(ctx, 'env', 'handler.env', {
    Environment: {Variables: {MY_SETTING: 'yes', AWS_LAMBDA_FUNCTION_NAME: 'overridden?'}},
  })
  const out = await invoke(ctx, 'env')
  assert.is(out.status, 200)
  assert.equal(out.json, {
    AWS_LAMBDA_FUNCTION_NAME: 'env',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    _HANDLER: 'handler.env',
    AWS_REGION: 'us-east-1',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_ENDPOINT_URL_LAMBDA: ctx.service.options.grants!.serviceUrl,
    AWS_ENDPOINT_URL_S3: ctx.service.options.functionS3Endpoint,
    AWS_ACCESS_KEY_ID: null,
    MY_SETTING: 'yes',
  })
  assert.ok(Number(out.report?.initDurationMs) > 0, 'the first invocation is cold and reports Init Duration')
  assert.match(out.log, /init: module loaded/, 'a cold tail has what init printed')
  assert.not.match((await invoke(ctx, 'env')).log, /init: module loaded/, 'a warm one does not')
  assert.ok(Number(out.report?.maxMemoryUsedMb) > 5, `Max Memory Used is measured: ${out.log}`)
})

test('eight concurrent calls run in parallel in distinct environments; the next eight reuse them', async (ctx) => {
  await deploy(ctx, 'slow', 'handler.slow')
  const round = () => Promise.all(Array.from({length: 8}, () => invoke(ctx, 'slow', {seconds: 4})))
  const cold = await round()
  for (const out of cold) assert.is(out.status, 200, out.body)
  const envs = new Set(cold.map((o) => o.json.env))
  assert.is(envs.size, 8, 'eight distinct environments')
  // In parallel: every handler started before any other ended.
  const latestStart = Math.max(...cold.map((o) => o.json.started))
  const earliestEnd = Math.min(...cold.map((o) => o.json.ended))
  assert.ok(latestStart < earliestEnd, 'the handlers overlapped in time')
  for (const out of cold) assert.ok(out.report?.initDurationMs !== undefined, 'cold: Init Duration')
  const warm = await round()
  for (const out of warm) {
    assert.is(out.report?.initDurationMs, undefined, 'warm: no Init Duration')
    assert.ok(envs.has(out.json.env), 'a warm invocation reuses one of the first environments')
  }
  assert.is(new Set(warm.map((o) => o.json.env)).size, 8)
  // Eight that ran calls, besides at most one sandbox prepared ahead for the next cold call.
  const envStates = [...ctx.service.pools.get('slow')!.envs].map((e) => e.state)
  assert.is(envStates.filter((s) => s !== 'prepared').length, 8, envStates.join(' '))
  assert.ok(envStates.filter((s) => s === 'prepared').length <= 1, envStates.join(' '))
})

test("a handled error (the handler raises) gives X-Amz-Function-Error and the runtime's error JSON", async (ctx) => {
  await deploy(ctx, 'handled', 'handler.handled')
  const out = await invoke(ctx, 'handled', {value: 42})
  assert.is(out.status, 200)
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'ValueError')
  assert.is(out.json.errorMessage, 'bad input: 42')
  assert.ok(Array.isArray(out.json.stackTrace))
  assert.match(out.log, /REPORT RequestId/)
})

test('an unhandled error (the result cannot be serialised) is reported as Runtime.MarshalError', async (ctx) => {
  await deploy(ctx, 'unhandled', 'handler.unhandled')
  const out = await invoke(ctx, 'unhandled')
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Runtime.MarshalError')
})

test('a timeout discards the environment ("Task timed out after N seconds"); the next call is cold', async (ctx) => {
  await deploy(ctx, 'timeout', 'handler.slow', {Timeout: 1})
  const out = await invoke(ctx, 'timeout', {seconds: 5})
  assert.is(out.status, 200)
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Sandbox.Timedout')
  assert.match(out.json.errorMessage, /Task timed out after 1\.00 seconds/)
  assert.match(out.log, /Status: timeout/)
  const next = await invoke(ctx, 'timeout', {seconds: 0})
  assert.is(next.status, 200)
  assert.is(next.functionError, undefined)
  assert.ok(next.report?.initDurationMs !== undefined, 'a new environment replaced the timed-out one')
})

test('a crash (the process exits) is Runtime.ExitError with its status; the function keeps serving', async (ctx) => {
  await deploy(ctx, 'crash', 'handler.crash')
  const out = await invoke(ctx, 'crash')
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Runtime.ExitError')
  assert.match(out.json.errorMessage, /Runtime exited with error: exit status 3/)
  assert.match(out.log, /about to exit/)
  await deploy(ctx, 'after-crash', 'handler.ok')
  assert.is((await invoke(ctx, 'after-crash', {x: 1})).json.echo.x, 1)
})

test("an init error (the handler module is missing) reports the runtime's init error", async (ctx) => {
  await deploy(ctx, 'initerr', 'missing_module.handler')
  const out = await invoke(ctx, 'initerr')
  assert.is(out.status, 200)
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Runtime.ImportModuleError')
  assert.match(out.json.errorMessage, /missing_module/)
  const again = await invoke(ctx, 'initerr')
  assert.is(
    again.json.errorType,
    'Runtime.ImportModuleError',
    'the next invocation tries a new environment and fails the same way',
  )
})

test('an oversize response gives Function.ResponseSizeTooLarge and the function keeps serving', async (ctx) => {
  await deploy(ctx, 'oversize', 'handler.oversize')
  const out = await invoke(ctx, 'oversize')
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Function.ResponseSizeTooLarge')
  await ctx.lambda.send(
    new UpdateFunctionConfigurationCommand({FunctionName: 'oversize', ImageConfig: {Command: ['handler.trivial']}}),
  )
  assert.is((await invoke(ctx, 'oversize')).json, 'ok')
})

test('a function that allocates past its memory size is stopped and reported as Runtime.OutOfMemory', async (ctx) => {
  await deploy(ctx, 'hog', 'handler.hog', {MemorySize: 128})
  const out = await invoke(ctx, 'hog', {mb: 512})
  assert.is(out.functionError, 'Unhandled')
  assert.is(out.json.errorType, 'Runtime.OutOfMemory')
  assert.ok(Number(out.report?.maxMemoryUsedMb) >= 100, `Max Memory Used near the cap: ${out.log}`)
  assert.ok(Number(out.report?.maxMemoryUsedMb) <= 128)
  const small = await invoke(ctx, 'hog', {mb: 32})
  assert.equal(small.json, {allocated_mb: 32})
})

test("Lambda's errors: unknown function 404, bad JSON 400, bad invocation type 400, throttling 429", async (ctx) => {
  const unknown = await raw(ctx, '/2015-03-31/functions/nope/invocations', {method: 'POST', body: '{}'})
  assert.is(unknown.status, 404)
  assert.is(unknown.headers.get('x-amzn-errortype'), 'ResourceNotFoundException')
  assert.equal(JSON.parse(unknown.body), {
    Type: 'User',
    message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
  })
  await deploy(ctx, 'errors', 'handler.slow')
  const bad = await raw(ctx, '/2015-03-31/functions/errors/invocations', {method: 'POST', body: '{not json'})
  assert.is(bad.status, 400)
  assert.is(bad.headers.get('x-amzn-errortype'), 'InvalidRequestContentException')
  const badType = await raw(ctx, '/2015-03-31/functions/errors/invocations', {
    method: 'POST',
    body: '{}',
    headers: {'X-Amz-Invocation-Type': 'Sometimes'},
  })
  assert.is(badType.status, 400)
  const dry = await raw(ctx, '/2015-03-31/functions/errors/invocations', {
    method: 'POST',
    body: '{}',
    headers: {'X-Amz-Invocation-Type': 'DryRun'},
  })
  assert.is(dry.status, 204)
  await ctx.lambda.send(new PutFunctionConcurrencyCommand({FunctionName: 'errors', ReservedConcurrentExecutions: 1}))
  const first = invoke(ctx, 'errors', {seconds: 2})
  // Wait until the one allowed environment is busy, then a second synchronous call is throttled.
  await waitFor(
    'the one allowed environment to be busy',
    () => ctx.service.pools.get('errors')?.stats().environments === 1,
    {intervalMs: 5},
  )
  const throttled = await raw(ctx, '/2015-03-31/functions/errors/invocations', {method: 'POST', body: '{"seconds":0}'})
  assert.is(throttled.status, 429)
  assert.is(throttled.headers.get('x-amzn-errortype'), 'TooManyRequestsException')
  assert.is(JSON.parse(throttled.body).Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded')
  assert.is((await first).status, 200)
  const event = await raw(ctx, '/2015-03-31/functions/errors/invocations', {
    method: 'POST',
    body: '{"seconds":0}',
    headers: {'X-Amz-Invocation-Type': 'Event'},
  })
  assert.is(event.status, 202)
  const id = event.headers.get('x-amzn-requestid')
  // The event runs in the background: its REPORT line appears in the function's log.
  await waitFor(`the REPORT line of event ${id}`, () =>
    Boolean(ctx.service.logs.get('errors')?.some((l) => l.startsWith(`REPORT RequestId: ${id}`))),
  )
})

test('without reserved concurrency, calls past the environment limit queue instead of failing', async (ctx) => {
  const small = await new LocalService(engine, {port: 0, maxEnvironmentsPerFunction: 2}).start()
  try {
    const lambda = lambdaClient(small)
    await deploy({lambda, image: ctx.image}, 'queued', 'handler.slow')
    const outs = await Promise.all(Array.from({length: 5}, () => invoke({lambda}, 'queued', {seconds: 0.3})))
    for (const out of outs) assert.is(out.status, 200)
    assert.is(new Set(outs.map((o) => o.json.env)).size, 2, 'two environments served all five calls')
    assert.is(outs.filter((o) => o.report?.initDurationMs !== undefined).length, 2, 'two cold starts, three warm')
  } finally {
    await small.close()
  }
})

test('boto3 invokes through the Invoke API; a function reaches another via AWS_ENDPOINT_URL_LAMBDA', async (ctx) => {
  await deploy(ctx, 'target', 'handler.ok')
  const script = `
import base64, json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], \
aws_secret_access_key=sys.argv[3])
out = c.invoke(FunctionName="target", Payload=json.dumps({"from": "boto3"}).encode(), LogType="Tail")
print(json.dumps({"status": out["StatusCode"], "payload": json.loads(out["Payload"].read()), "log": \
base64.b64decode(out["LogResult"]).decode()}))
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const run = await execa('/var/lib/faas-stack/venv/bin/python', [
    '-c',
    script,
    ctx.service.url,
    accessKeyId,
    secretAccessKey,
  ])
  const out = JSON.parse(run.stdout)
  assert.is(out.status, 200)
  assert.equal(out.payload.echo, {from: 'boto3'})
  assert.ok(parseReport(out.log)?.durationMs !== undefined, out.log)
  await deploy(ctx, 'caller', 'handler.invoke_other')
  const chained = await invoke(ctx, 'caller', {target: 'target', payload: {hop: 2}})
  assert.equal(chained.json.echo, {hop: 2})
})

test('idle environments are reclaimed after the idle timeout; the next call is cold', async (ctx) => {
  await deploy(ctx, 'idle', 'handler.trivial')
  await invoke(ctx, 'idle')
  const pool = ctx.service.pools.get('idle')!
  const id = [...pool.envs][0]!.containerId
  assert.is(pool.reclaimIdle(Date.now() + 1000), 0, 'not yet idle for long')
  assert.is(pool.reclaimIdle(Date.now() + 61_000), 1)
  await waitFor(
    `the idle container ${id} to go`,
    async () => !(await findContainersByLabel(engine, LABEL)).some((c) => c.id === id),
  )
  assert.is([...pool.envs].filter((e) => e.state !== 'prepared').length, 0, 'only a sandbox prepared ahead may stay')
  assert.ok((await invoke(ctx, 'idle')).report?.initDurationMs !== undefined)
})

test('deleting a function removes its environments', async (ctx) => {
  await deploy(ctx, 'gone', 'handler.trivial')
  await invoke(ctx, 'gone')
  const ids = [...(ctx.service.pools.get('gone')?.envs ?? [])].map((e) => e.containerId)
  assert.is(ids.length, 1)
  await ctx.lambda.send(new DeleteFunctionCommand({FunctionName: 'gone'}))
  const left = (await findContainersByLabel(engine, LABEL)).filter((c) => ids.includes(c.id))
  assert.equal(left, [])
})

test.run()
