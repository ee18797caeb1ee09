/**
 * Function URLs and API routes on the local service (figures printed, never asserted):
 *   node --import tsx scripts/perf/function-urls.ts [--calls 500] [--n 1000] [--port 9320]
 * A detached service (its own FAAS_HOME and port) runs one short handler behind a NONE URL and an API route
 * (GET /r, payload format 2.0, as `faas deploy` puts a manifest's "api").
 * (1) Front-door overhead on the same warm function: --calls sequential requests through the URL and the route
 *     (fetch, keep-alive) and as many Invoke API calls (JS SDK, keep-alive), interleaved, p50/p99 of each and
 *     their ratio (issue 19 asks URL and route p50 ≤ 1.15 × and p99 ≤ 1.3 × the Invoke API's).
 * (2) --n concurrent HTTP connections to the URL, then to the route (one connection each), with the default
 *     environment limit:
 *     every request must be answered (the function's result, or 429 when throttled); request ids are counted
 *     for loss and duplicates; p50/p99 of the answers, and the service's open fds and RSS before and after.
 * Smoke mode (FAAS_PERF_SMOKE=1): 20 calls, 20 connections (to each).
 */
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {loadSettings} from '../../src/core/settings.js'
import {pollUntil} from '../../src/core/wait.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {readSecrets} from '../../src/local/credentials.js'
import {localStatus, startDetached, stopLocalService} from '../../src/local/service-process.js'
import {signRequest} from '../../src/local/sigv4.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    calls: {type: 'string', default: sized('500', '20')},
    n: {type: 'string', default: sized('1000', '20')},
    port: {type: 'string', default: process.env.FAAS_LOCAL_PORT ?? '9320'},
  },
})
const CALLS = Number(values.calls)
const N = Number(values.n)

const home = mkdtempSync(join(tmpdir(), 'faas-urls-perf-'))
process.env.FAAS_HOME = home
process.env.FAAS_LOCAL_PORT = values.port

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const ms = (n: number) => n.toFixed(2)
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024

/** One GET on its own connection: status and request id (x-amzn-requestid, apigw-requestid), or the error. */
function getOnce(url: string): Promise<{status: number; requestId?: string}> {
  return new Promise((resolve, reject) => {
    const req = request(url, {agent: false, headers: {connection: 'close'}}, (res) => {
      res.resume()
      const id = res.headers['x-amzn-requestid'] ?? res.headers['apigw-requestid']
      res.on('end', () => resolve({status: res.statusCode!, requestId: id as string | undefined}))
    })
    req.on('error', reject)
    req.end()
  })
}

async function overhead(lambda: LambdaClient, url: string, route: string): Promise<void> {
  const viaUrl: number[] = []
  const viaRoute: number[] = []
  const viaInvoke: number[] = []
  const payload = Buffer.from('{}')
  const get = async (target: string, into?: number[]) => {
    const t0 = performance.now()
    const res = await fetch(target)
    await res.text()
    if (res.status !== 200) throw new Error(`${target} answered ${res.status}`)
    into?.push(performance.now() - t0)
  }
  const invoke = async (into?: number[]) => {
    const t0 = performance.now()
    const out = await lambda.send(new InvokeCommand({FunctionName: 'url-perf', Payload: payload}))
    if (out.FunctionError) throw new Error('the function failed')
    into?.push(performance.now() - t0)
  }
  for (let i = 0; i < Math.max(5, CALLS / 10); i++) {
    await get(url)
    await get(route)
    await invoke()
  }
  for (let i = 0; i < CALLS; i++) {
    await get(url, viaUrl)
    await get(route, viaRoute)
    await invoke(viaInvoke)
  }
  for (const list of [viaUrl, viaRoute, viaInvoke]) list.sort((a, b) => a - b)
  const ratio = (list: number[]) =>
    `p50 ${(pct(list, 50) / pct(viaInvoke, 50)).toFixed(2)} x  p99 ${(pct(list, 99) / pct(viaInvoke, 99)).toFixed(2)} x`
  console.log(`(1) the same warm function, ${CALLS} sequential calls each, interleaved:`)
  console.log(`  Function URL (fetch)     p50 ${ms(pct(viaUrl, 50))} ms  p99 ${ms(pct(viaUrl, 99))} ms`)
  console.log(`  API route (fetch)        p50 ${ms(pct(viaRoute, 50))} ms  p99 ${ms(pct(viaRoute, 99))} ms`)
  console.log(`  Invoke API (JS SDK)      p50 ${ms(pct(viaInvoke, 50))} ms  p99 ${ms(pct(viaInvoke, 99))} ms`)
  console.log(`  URL / Invoke             ${ratio(viaUrl)}`)
  console.log(`  route / Invoke           ${ratio(viaRoute)}`)
}

/** N requests at once, one connection each. */
async function burst(url: string, n: number) {
  const latencies: number[] = []
  const statuses = new Map<number, number>()
  const ids: string[] = []
  const errors: string[] = []
  await Promise.all(
    Array.from({length: n}, async () => {
      const start = performance.now()
      try {
        const answer = await getOnce(url)
        latencies.push(performance.now() - start)
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        if (answer.status === 200 && answer.requestId) ids.push(answer.requestId)
      } catch (error) {
        errors.push(String((error as Error).message ?? error))
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return {latencies, statuses, ids, errors}
}

async function connections(url: string, pid: number, what: string): Promise<void> {
  // A first burst starts the environments (up to the limit), so what follows compares like with like.
  await burst(url, Math.max(N / 10, 20))
  const environments = async () =>
    ((await localStatus()).environments?.['url-perf'] as {environments?: number} | undefined)?.environments ?? 0
  const envsBefore = await environments()
  const fdsBefore = fds(pid)
  const rssBefore = rssMb(pid)
  const t0 = performance.now()
  const {latencies, statuses, ids, errors} = await burst(url, N)
  const wallS = (performance.now() - t0) / 1000
  const ok = statuses.get(200) ?? 0
  const throttled = statuses.get(429) ?? 0
  const other = N - ok - throttled
  console.log(
    `(2) ${N} concurrent HTTP connections to the ${what} (default environment limit) in ${wallS.toFixed(1)} s:`,
  )
  console.log(`  answered ${ok + throttled}/${N}: 200 ${ok}, 429 ${throttled}, other ${other}`)
  console.log(`  lost ${N - latencies.length}, duplicated request ids ${ids.length - new Set(ids).size}`)
  console.log(`  p50 ${ms(pct(latencies, 50))} ms  p99 ${ms(pct(latencies, 99))} ms`)
  if (errors.length > 0) console.log(`  errors: ${[...new Set(errors)].slice(0, 3).join('; ')}`)
  // Connections close after their answer; the service lets go of them within moments.
  const envsAfter = await environments()
  // Each environment holds a few fds (its Runtime API, its engine streams): compare with as many as before.
  await pollUntil(async () => envsAfter !== envsBefore || fds(pid) <= fdsBefore, {timeoutMs: 10_000})
  console.log(
    `  service fds ${fdsBefore} before, ${fds(pid)} after, with ${envsBefore} and ${envsAfter} warm environments; ` +
      `RSS ${rssBefore.toFixed(1)} MB before, ${rssMb(pid).toFixed(1)} MB after`,
  )
}

async function main(): Promise<void> {
  const image = await fixtureImage(new DockerEngine(), 'urls')
  const settings = loadSettings()
  const state = await startDetached(settings, {idleTimeoutS: 600})
  const secrets = readSecrets()!
  const lambda = new LambdaClient({
    endpoint: state.url,
    region: settings.region ?? 'us-east-1',
    credentials: {accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey},
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({httpAgent: new Agent({keepAlive: true})}),
  })
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'url-perf',
      Role: 'arn:aws:iam::000000000000:role/perf',
      PackageType: 'Image',
      Code: {ImageUri: image},
      ImageConfig: {Command: ['handler.trivial']},
      MemorySize: 128,
      Timeout: 30,
    }),
  )
  const {FunctionUrl: url} = await lambda.send(
    new CreateFunctionUrlConfigCommand({FunctionName: 'url-perf', AuthType: 'NONE'}),
  )
  for (const [sid, action, extra] of [
    ['u', 'lambda:InvokeFunctionUrl', {FunctionUrlAuthType: 'NONE' as const}],
    ['i', 'lambda:InvokeFunction', {InvokedViaFunctionUrl: true}],
  ] as const)
    await lambda.send(
      new AddPermissionCommand({FunctionName: 'url-perf', StatementId: sid, Action: action, Principal: '*', ...extra}),
    )
  const route = await putApi(state.url, settings.region ?? 'us-east-1', secrets)
  await overhead(lambda, url!, route)
  await connections(url!, state.pid, 'URL')
  await connections(route, state.pid, 'route')
}

/** The API `faas deploy` would put for a manifest with "api": {"routes": {"GET /r": "url-perf"}}. */
async function putApi(
  endpoint: string,
  region: string,
  secrets: {accessKeyId: string; secretAccessKey: string},
): Promise<string> {
  const target = new URL('/faas/apis/perf', endpoint)
  const body = JSON.stringify({
    stage: '$default',
    routes: [{routeKey: 'GET /r', function: 'url-perf', payloadFormat: '2.0'}],
  })
  const init = {method: 'PUT', body: Buffer.from(body), headers: {'content-type': 'application/json'}}
  const res = await fetch(target, {method: 'PUT', body, headers: await signRequest(target, init, secrets, region)})
  if (!res.ok) throw new Error(`PUT /faas/apis/perf answered ${res.status}: ${await res.text()}`)
  return `${((await res.json()) as {url: string}).url.replace(/\/$/, '')}/r`
}

try {
  await main()
} finally {
  await stopLocalService()
  rmSync(home, {recursive: true, force: true})
}
