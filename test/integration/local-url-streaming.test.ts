import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/** RESPONSE_STREAM Function URLs: the function's stream reaches the HTTP client as it is written. */
const test = suite<{service: LocalService; lambda: LambdaClient; streamer: string; buffered: string}>(
  'local URL streaming',
)
const engine = new DockerEngine()

/** A public RESPONSE_STREAM URL in front of a new function. */
async function streamingUrl(lambda: LambdaClient, name: string, image: string, command?: string[]): Promise<string> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/x',
      PackageType: 'Image',
      Code: {ImageUri: image},
      ImageConfig: command ? {Command: command} : undefined,
      MemorySize: 256,
      Timeout: 30,
    }),
  )
  const made = await lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: name, AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM'}),
  )
  for (const [sid, action, extra] of [
    ['u', 'lambda:InvokeFunctionUrl', {FunctionUrlAuthType: 'NONE' as const}],
    ['i', 'lambda:InvokeFunction', {InvokedViaFunctionUrl: true}],
  ] as const)
    await lambda.send(
      new AddPermissionCommand({FunctionName: name, StatementId: sid, Action: action, Principal: '*', ...extra}),
    )
  return made.FunctionUrl!
}

test.before(async (ctx) => {
  ctx.service = await new LocalService(engine, {port: 0, idleTimeoutMs: 60_000}).start()
  ctx.lambda = lambdaClient(ctx.service)
  ctx.streamer = await streamingUrl(ctx.lambda, 'url-streamer', await fixtureImage(engine, 'streaming'))
  ctx.buffered = await streamingUrl(ctx.lambda, 'url-buffered', await fixtureImage(engine), ['handler.echo'])
  await fetch(`${ctx.streamer}?chunks=1&delay=0`).then((r) => r.arrayBuffer()) // cold start out of the way
})

test.after(async (ctx) => {
  await ctx.service?.close()
})

/** The body as it arrives, each read timed. */
async function timedRead(response: Response): Promise<Array<{text: string; at: number}>> {
  const reads: Array<{text: string; at: number}> = []
  const decoder = new TextDecoder()
  for await (const bytes of response.body!) reads.push({text: decoder.decode(bytes), at: Date.now()})
  return reads
}

test('fetch reads the prelude as status, headers, cookies; the first chunk before the function ends', async (ctx) => {
  const response = await fetch(`${ctx.streamer}?status=201&chunks=4&delay=0.5`)
  const headersAt = Date.now()
  assert.is(response.status, 201)
  assert.is(response.headers.get('content-type'), 'text/plain')
  assert.is(response.headers.get('x-streamed'), 'yes')
  assert.equal(response.headers.getSetCookie(), ['a=1', 'b=2'])
  assert.is(response.headers.get('content-length'), null)
  assert.ok(response.headers.get('x-amzn-requestid'))
  const reads = await timedRead(response)
  const endedAt = Date.now()
  const body = reads.map((r) => r.text).join('')
  assert.is(body.match(/chunk \d at/g)?.length, 4, body)
  assert.not.match(body, /statusCode|\0/)
  // 1.5 s of the function's writing were still to come when the client had its first byte.
  assert.match(reads[0]!.text, /^chunk 0 at /)
  assert.ok(endedAt - reads[0]!.at >= 1000, `first chunk only ${endedAt - reads[0]!.at} ms before the end`)
  assert.ok(endedAt - headersAt >= 1000, `status line only ${endedAt - headersAt} ms before the end`)
  const written = Number(/at ([\d.]+);/.exec(reads[0]!.text)![1])
  assert.ok(reads[0]!.at - written < 1000, `first chunk relayed ${(reads[0]!.at - written).toFixed(0)} ms late`)
})

test('curl -N prints the first chunk while the function still writes', async (ctx) => {
  const curl = execa('curl', ['-sN', `${ctx.streamer}?status=200&chunks=3&delay=0.7`])
  const first = await new Promise<number>((resolve) => curl.stdout!.once('data', () => resolve(Date.now())))
  const {stdout} = await curl
  const endedAt = Date.now()
  assert.is(stdout.match(/chunk \d at/g)?.length, 3, stdout)
  assert.ok(endedAt - first >= 700, `curl's first bytes only ${endedAt - first} ms before the end`)
})

test('a stream without a prelude is a 200 with its own Content-Type', async (ctx) => {
  const response = await fetch(`${ctx.streamer}?chunks=2&delay=0`)
  assert.is(response.status, 200)
  assert.is(response.headers.get('content-type'), 'application/octet-stream')
  assert.match(await response.text(), /^chunk 0 at .*chunk 1 at /)
})

test('an error before the first byte is a 502; after it the body is cut short', async (ctx) => {
  const early = await fetch(`${ctx.streamer}?chunks=2&delay=0&fail_after=0`)
  assert.is(early.status, 502)
  assert.equal(await early.json(), {Message: 'Internal Server Error'})
  const late = await fetch(`${ctx.streamer}?status=200&chunks=3&delay=0&fail_after=1`)
  assert.is(late.status, 200)
  const cut = await late.text().then(
    () => 'ended cleanly',
    (error: Error) => String(error.cause ?? error),
  )
  assert.not.equal(cut, 'ended cleanly')
})

test('a function that does not stream: its payload as the body, not read as statusCode/body', async (ctx) => {
  const response = await fetch(`${ctx.buffered}path?x=1`)
  assert.is(response.status, 200)
  const event = (await response.json()) as {rawPath: string; requestContext: {http: {method: string}}}
  assert.is(event.rawPath, '/path')
  assert.is(event.requestContext.http.method, 'GET')
})

test.run()
