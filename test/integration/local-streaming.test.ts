import {CreateFunctionCommand, InvokeWithResponseStreamCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

/** Response streaming: a custom runtime streams through the Runtime API; InvokeWithResponseStream relays it. */
const test = suite<{service: LocalService; lambda: LambdaClient}>('local streaming')
const engine = new DockerEngine()

test.before(async (ctx) => {
  ctx.service = await new LocalService(engine, {port: 0}).start()
  ctx.lambda = lambdaClient(ctx.service)
  const create = async (name: string, image: string, command?: string[]) =>
    ctx.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: command ? {Command: command} : undefined,
        MemorySize: 256,
        Timeout: 30,
      }),
    )
  await create('streamer', await fixtureImage(engine, 'streaming'))
  await create('buffered', await fixtureImage(engine), ['handler.echo'])
})

test.after(async (ctx) => {
  await ctx.service?.close()
})

interface Streamed {
  chunks: Array<{text: string; at: number}>
  complete?: {ErrorCode?: string; ErrorDetails?: string; LogResult?: string}
  completeAt?: number
}

async function stream(ctx: {lambda: LambdaClient}, name: string, event: unknown, tail = false): Promise<Streamed> {
  const out = await ctx.lambda.send(
    new InvokeWithResponseStreamCommand({
      FunctionName: name,
      Payload: Buffer.from(JSON.stringify(event)),
      LogType: tail ? 'Tail' : undefined,
    }),
  )
  assert.is(out.StatusCode, 200)
  const got: Streamed = {chunks: []}
  for await (const item of out.EventStream!) {
    if (item.PayloadChunk?.Payload)
      got.chunks.push({text: Buffer.from(item.PayloadChunk.Payload).toString('utf8'), at: Date.now()})
    if (item.InvokeComplete) {
      got.complete = item.InvokeComplete
      got.completeAt = Date.now()
    }
  }
  return got
}

test('the JS SDK reads chunks as the function writes them, then InvokeComplete', async (ctx) => {
  await stream(ctx, 'streamer', {chunks: 1, delay: 0}) // cold start out of the way
  const got = await stream(ctx, 'streamer', {chunks: 4, delay: 0.5}, true)
  assert.is(got.chunks.length, 4, JSON.stringify(got))
  assert.match(got.chunks[0]!.text, /^chunk 0 at /)
  assert.equal(got.complete?.ErrorCode, undefined)
  assert.match(Buffer.from(got.complete!.LogResult!, 'base64').toString('utf8'), /REPORT RequestId/)
  // The first chunk arrived while the function still ran: 1.5 s of its writing were still to come.
  assert.ok(got.completeAt! - got.chunks[0]!.at >= 1000, `first chunk ${got.completeAt! - got.chunks[0]!.at} ms early`)
  for (const chunk of got.chunks) {
    const written = Number(/at ([\d.]+);/.exec(chunk.text)![1])
    assert.ok(chunk.at - written < 1000, `chunk relayed ${(chunk.at - written).toFixed(0)} ms after it was written`)
  }
})

test('a mid-stream error (trailers) ends the stream with ErrorCode, ErrorDetails; bad trailers say so', async (ctx) => {
  const failed = await stream(ctx, 'streamer', {chunks: 4, delay: 0, fail_after: 2})
  assert.is(failed.chunks.length, 2)
  assert.equal(failed.complete, {ErrorCode: 'StreamError', ErrorDetails: 'failed after 2 chunks'})
  const malformed = await stream(ctx, 'streamer', {chunks: 4, delay: 0, fail_after: 1, bad_trailer: true})
  assert.is(malformed.complete?.ErrorCode, 'Runtime.MalformedTrailers')
  assert.match(malformed.complete!.ErrorDetails!, /malformed trailers .*base64 JSON/)
})

test('a function that does not stream: its whole answer in one PayloadChunk', async (ctx) => {
  const got = await stream(ctx, 'buffered', {hello: 'world'})
  assert.equal(
    got.chunks.map((c) => JSON.parse(c.text)),
    [{hello: 'world'}],
  )
  assert.equal(got.complete, {})
})

test('boto3 reads the same event stream', async (ctx) => {
  const script = `
import json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], \
aws_secret_access_key=sys.argv[3])
out = c.invoke_with_response_stream(FunctionName="streamer", Payload=json.dumps({"chunks": 3, "delay": 0.1, \
"fail_after": 2}).encode())
chunks, complete = [], None
for event in out["EventStream"]:
    if "PayloadChunk" in event:
        chunks.append(event["PayloadChunk"]["Payload"].decode()[:7])
    if "InvokeComplete" in event:
        complete = event["InvokeComplete"]
print(json.dumps({"status": out["StatusCode"], "chunks": chunks, "complete": complete}))
`
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const run = await execa('/var/lib/faas-stack/venv/bin/python', [
    '-c',
    script,
    ctx.service.url,
    accessKeyId,
    secretAccessKey,
  ])
  assert.equal(JSON.parse(run.stdout), {
    status: 200,
    chunks: ['chunk 0', 'chunk 1'],
    complete: {ErrorCode: 'StreamError', ErrorDetails: 'failed after 2 chunks'},
  })
})

test.run()
