/**
 * Performance of the local Lambda service (figures printed, never asserted):
 *   node --import tsx scripts/perf/local.ts [--n 400] [--seconds 5]
 * 1. warm invocation latency p50/p99 through the service vs. straight to the RIE on the same image
 *    (trivial handler, 1,769 MB = 1 vCPU each, one sequential client with keep-alive);
 * 2. throughput with 1 and 2 environments (closed loop, twice as many clients as environments);
 * 3. cold start of the offline base image: time to first response and the REPORT's Init Duration.
 * The service checks SigV4 as Lambda does: functions are created with the SDK client, and each invocation is a
 * raw request signed with the service's pair before its clock starts (like the RIE's, timed from the send).
 */
import {CreateFunctionCommand} from '@aws-sdk/client-lambda'
import {parseArgs} from 'node:util'

import {parseReport} from '../../src/core/report.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {signRequest} from '../../src/local/sigv4.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {startRie} from '../../test/fixtures/local/rie.js'
import {lambdaClient} from '../../test/helpers/local.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    n: {type: 'string', default: sized('400', '20')},
    seconds: {type: 'string', default: sized('5', '0.5')},
    cold: {type: 'string', default: sized('5', '1')},
  },
})
const N = Number(values.n)
const SECONDS = Number(values.seconds)
const COLD = Number(values.cold)
const MEMORY = 1769
const engine = new DockerEngine()

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const ms = (x: number) => `${x.toFixed(2)} ms`

/** Whom a call goes to: the RIE takes any request, the service only one signed with its pair. */
type Endpoint = {url: string; service?: LocalService}

async function post(
  to: Endpoint,
  body: string,
  headers: Record<string, string> = {},
): Promise<{status: number; text: string; headers: Headers; ms: number}> {
  const url = new URL(to.url)
  const signed = to.service
    ? await signRequest(
        url,
        {method: 'POST', body: Buffer.from(body), headers},
        to.service.credentials,
        to.service.options.region,
      )
    : headers
  const t = performance.now()
  const res = await fetch(url, {method: 'POST', body, headers: signed})
  const text = await res.text()
  return {status: res.status, text, headers: res.headers, ms: performance.now() - t}
}

async function latencies(to: Endpoint, n: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) await post(to, '{}') // warm up (and the first, cold, call)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const res = await post(to, '{}')
    out.push(res.ms)
    if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text}`)
  }
  return out.sort((a, b) => a - b)
}

async function createFunction(
  service: LocalService,
  name: string,
  image: string,
  handler = 'handler.trivial',
): Promise<Endpoint> {
  const lambda = lambdaClient(service)
  try {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: 'arn:aws:iam::000000000000:role/perf',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: [handler]},
        MemorySize: MEMORY,
        Timeout: 30,
      }),
    )
  } finally {
    lambda.destroy()
  }
  return {url: `${service.url}/2015-03-31/functions/${name}/invocations`, service}
}

const image = await fixtureImage(engine)
console.log(
  `local Lambda service performance — image ${image}, ${MEMORY} MB (1 vCPU) per environment, ` +
    `host ${(await import('node:os')).availableParallelism()} cores`,
)

// 1. Warm latency: faas vs. RIE.
{
  const service = await new LocalService(engine, {port: 0}).start()
  let ours: number[]
  try {
    ours = await latencies(await createFunction(service, 'trivial', image), N)
  } finally {
    await service.close()
  }
  const rie = await startRie(engine, image, 'handler.trivial', {memoryMb: MEMORY, cpus: 1})
  let theirs: number[]
  try {
    theirs = await latencies({url: rie.invokeUrl}, N)
  } finally {
    await rie.close()
  }
  console.log(`\nwarm latency, trivial handler, ${N} sequential invocations`)
  console.log(`  faas local   p50 ${ms(pct(ours, 50))}  p99 ${ms(pct(ours, 99))}`)
  console.log(`  RIE direct   p50 ${ms(pct(theirs, 50))}  p99 ${ms(pct(theirs, 99))}`)
  console.log(
    `  ratio faas/RIE  p50 ${(pct(ours, 50) / pct(theirs, 50)).toFixed(2)}  ` +
      `p99 ${(pct(ours, 99) / pct(theirs, 99)).toFixed(2)}`,
  )
}

// 2. Throughput with 1 and 2 environments.
console.log(`\nthroughput, trivial handler, closed loop for ${SECONDS} s`)
for (const envs of [1, 2]) {
  const service = await new LocalService(engine, {port: 0, maxEnvironmentsPerFunction: envs}).start()
  try {
    const url = await createFunction(service, 'trivial', image)
    await Promise.all(Array.from({length: envs}, () => post(url, '{}'))) // start the environments
    let count = 0
    const end = performance.now() + SECONDS * 1000
    await Promise.all(
      Array.from({length: envs * 2}, async () => {
        while (performance.now() < end) {
          const res = await post(url, '{}')
          if (res.status !== 200) throw new Error(res.text)
          count++
        }
      }),
    )
    const started = service.pools.get('trivial')!.envs.size
    console.log(
      `  ${envs} environment${envs > 1 ? 's' : ' '}  ${(count / SECONDS).toFixed(0)} invocations/s  (${started} ` +
        `environment(s) used, ${envs * 2} clients)`,
    )
  } finally {
    await service.close()
  }
}

// 3. Cold start, the whole path (no sandbox prepared ahead; scripts/perf/cold-start.ts measures both).
{
  const service = await new LocalService(engine, {port: 0, preparedPerFunction: 0}).start()
  const first: number[] = []
  const init: number[] = []
  try {
    for (let i = 0; i < COLD; i++) {
      const url = await createFunction(service, `cold-${i}`, image)
      const res = await post(url, '{}', {'X-Amz-Log-Type': 'Tail'})
      first.push(res.ms)
      init.push(
        parseReport(Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8'))
          ?.initDurationMs ?? NaN,
      )
      await service.pools.get(`cold-${i}`)?.close()
    }
  } finally {
    await service.close()
  }
  first.sort((a, b) => a - b)
  init.sort((a, b) => a - b)
  console.log(`\ncold start, offline base image (python3.11 + awslambdaric), ${COLD} fresh environments (--no-prepare)`)
  console.log(`  time to first response  median ${ms(pct(first, 50))}  min ${ms(first[0]!)}  max ${ms(first.at(-1)!)}`)
  console.log(`  Init Duration           median ${ms(pct(init, 50))}  min ${ms(init[0]!)}  max ${ms(init.at(-1)!)}`)
}
process.exit(0)
