/**
 * Response streaming through the local service (issue 22; figures printed, never asserted):
 *   node --import tsx scripts/perf/streaming.ts [--n 20]            (FAAS_PERF_SMOKE=1: 3)
 * A custom runtime (test/fixtures/local/streaming) writes a 4-chunk response, 100 ms apart, each chunk stamped with
 * the time it was written; the client (the JS SDK's InvokeWithResponseStream) notes when each arrives. Printed: the
 * time from the function writing its first chunk to the client reading it (p50/p99 over warm calls), and how long
 * before the end of the call the first chunk arrived; then the same through a RESPONSE_STREAM Function URL read with
 * fetch (the runtime writes the http-integration-response prelude first).
 */
import {parseArgs} from 'node:util'

import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda'

import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'

const smoke = process.env.FAAS_PERF_SMOKE === '1'
const {values} = parseArgs({options: {n: {type: 'string', default: smoke ? '3' : '20'}}})
const N = Number(values.n)
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
}

const engine = new DockerEngine()
const service = await new LocalService(engine, {port: 0}).start()
try {
  const lambda = new LambdaClient({endpoint: service.url, region: 'us-east-1', credentials: service.credentials})
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'streamer',
      Role: 'r',
      PackageType: 'Image',
      Code: {ImageUri: await fixtureImage(engine, 'streaming')},
      MemorySize: 512,
    }),
  )
  const once = async () => {
    const out = await lambda.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: 'streamer',
        Payload: Buffer.from(JSON.stringify({chunks: 4, delay: 0.1})),
      }),
    )
    const arrivals: Array<{written: number; at: number}> = []
    let end = 0
    for await (const item of out.EventStream!) {
      const now = Date.now() // ms since the epoch, as the runtime stamps its chunks
      if (item.PayloadChunk?.Payload) {
        const text = Buffer.from(item.PayloadChunk.Payload).toString('utf8')
        arrivals.push({written: Number(/at ([\d.]+);/.exec(text)?.[1]), at: now})
      }
      if (item.InvokeComplete) end = now
    }
    if (arrivals.length !== 4) throw new Error(`expected 4 chunks, got ${arrivals.length}`)
    return {ttfb: arrivals[0]!.at - arrivals[0]!.written, early: end - arrivals[0]!.at}
  }
  await once() // the cold start
  const runs = []
  for (let i = 0; i < N; i++) runs.push(await once())
  const ttfb = runs.map((r) => r.ttfb)
  const early = runs.map((r) => r.early)
  console.log(
    `streaming, 4 chunks 100 ms apart: first chunk written to read p50 ${pct(ttfb, 0.5).toFixed(1)} ms  ` +
      `p99 ${pct(ttfb, 0.99).toFixed(1)} ms (${N} warm calls)`,
  )
  console.log(`first chunk read ${pct(early, 0.5).toFixed(0)} ms (p50) before the call ended`)

  const {FunctionUrl: url} = await lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: 'streamer', AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM'}),
  )
  for (const [sid, action, extra] of [
    ['u', 'lambda:InvokeFunctionUrl', {FunctionUrlAuthType: 'NONE' as const}],
    ['i', 'lambda:InvokeFunction', {InvokedViaFunctionUrl: true}],
  ] as const)
    await lambda.send(
      new AddPermissionCommand({FunctionName: 'streamer', StatementId: sid, Action: action, Principal: '*', ...extra}),
    )
  const viaUrl = async () => {
    const response = await fetch(`${url}?status=200&chunks=4&delay=0.1`)
    let first: {written: number; at: number} | undefined
    for await (const bytes of response.body!) {
      const now = Date.now()
      first ??= {written: Number(/at ([\d.]+);/.exec(Buffer.from(bytes).toString('utf8'))?.[1]), at: now}
    }
    return first!.at - first!.written
  }
  const urlTtfb = []
  for (let i = 0; i < N; i++) urlTtfb.push(await viaUrl())
  console.log(
    `streaming URL (fetch), 4 chunks 100 ms apart: first chunk written to read ` +
      `p50 ${pct(urlTtfb, 0.5).toFixed(1)} ms  p99 ${pct(urlTtfb, 0.99).toFixed(1)} ms (${N} warm calls)`,
  )
} finally {
  await service.close()
}
