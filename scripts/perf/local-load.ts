/**
 * The local Lambda service under a burst of concurrent calls (figures printed, never asserted):
 *   node --import tsx scripts/perf/local-load.ts [--n 1000] [--environments 4] [--reserved 8]
 * A detached service (its own FAAS_HOME and port) gets N concurrent invocations of a short handler,
 * (a) with its environment limit (calls beyond wait in the bounded queue) and (b) with a reserved
 * concurrency (calls beyond are throttled, 429 with Lambda's reason). Every call must complete or be
 * throttled; request ids are counted for loss and duplicates, and each environment counts its own
 * invocations in /tmp (the handler's side). Afterwards: the service's open fds, RSS and containers.
 * Its service listens on --port, or FAAS_LOCAL_PORT when set, or 9310.
 * Smoke mode (FAAS_PERF_SMOKE=1): 20 calls, 2 environments, reserved concurrency 2.
 */
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda'
import {NodeHttpHandler} from '@smithy/node-http-handler'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {Agent} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {loadSettings} from '../../src/core/settings.js'
import {pollUntil} from '../../src/core/wait.js'
import {findContainersByLabel} from '../../src/docker/containers.js'
import {FUNCTION_LABEL} from '../../src/local/contracts.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {readSecrets} from '../../src/local/credentials.js'
import {localStatus, startDetached, stopLocalService} from '../../src/local/service-process.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    n: {type: 'string', default: sized('1000', '20')},
    environments: {type: 'string', default: sized('4', '2')},
    reserved: {type: 'string', default: sized('8', '2')},
    port: {type: 'string', default: process.env.FAAS_LOCAL_PORT ?? '9310'},
  },
})
const N = Number(values.n)
const ENVIRONMENTS = Number(values.environments)
const RESERVED = Number(values.reserved)

const home = mkdtempSync(join(tmpdir(), 'faas-load-'))
process.env.FAAS_HOME = home
process.env.FAAS_LOCAL_PORT = values.port
const engine = new DockerEngine()

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length
/** VmRSS and VmHWM (peak resident set) of a process, in MB. */
function memory(pid: number): {rssMb: number; peakMb: number} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN)
  return {rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024}
}

async function burst(lambda: LambdaClient, name: string) {
  const latencies: number[] = []
  const throttled = new Map<string, number>()
  const others: string[] = []
  const ids: string[] = []
  const perEnvironment = new Map<string, number>()
  await Promise.all(
    Array.from({length: N}, async () => {
      const t0 = performance.now()
      try {
        const out = await lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from('{}')}))
        latencies.push(performance.now() - t0)
        const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8'))
        if (out.FunctionError) return void others.push(`function error: ${JSON.stringify(body).slice(0, 120)}`)
        if (body.request_id !== out.$metadata.requestId)
          others.push(`request id mismatch ${body.request_id} / ${out.$metadata.requestId}`)
        ids.push(body.request_id)
        perEnvironment.set(body.env, Math.max(perEnvironment.get(body.env) ?? 0, body.count))
      } catch (error) {
        if (error instanceof TooManyRequestsException)
          throttled.set(String(error.Reason), (throttled.get(String(error.Reason)) ?? 0) + 1)
        else others.push(String((error as Error).message ?? error))
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  const handled = [...perEnvironment.values()].reduce((a, b) => a + b, 0)
  return {completed: ids.length, unique: new Set(ids).size, handled, throttled, others, latencies}
}

async function main(): Promise<void> {
  const image = await fixtureImage(engine)
  const settings = loadSettings()
  const state = await startDetached(settings, {
    maxEnvironments: ENVIRONMENTS,
    maxQueue: N,
    queueTimeoutS: 300,
    idleTimeoutS: 600,
  })
  const pid = state.pid
  const secrets = readSecrets()!
  const lambda = new LambdaClient({
    endpoint: state.url,
    region: settings.region ?? 'us-east-1',
    credentials: {accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey},
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({keepAlive: true, maxSockets: N}),
      requestTimeout: 600_000,
    }),
  })
  const fdsBefore = fds(pid)
  const memBefore = memory(pid)
  console.log(
    `service pid ${pid} on ${state.url}: ${fdsBefore} open fds, RSS ${memBefore.rssMb.toFixed(1)} MB before ` +
      `any function`,
  )
  const scenarios: Array<{name: string; label: string; reserved?: number}> = [
    {name: 'load-limit', label: `(a) environment limit ${ENVIRONMENTS}, no reserved concurrency`},
    {name: 'load-reserved', label: `(b) reserved concurrency ${RESERVED}`, reserved: RESERVED},
  ]
  for (const scenario of scenarios) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: scenario.name,
        Role: 'arn:aws:iam::000000000000:role/load',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.count']},
        MemorySize: 128,
        Timeout: 30,
      }),
    )
    if (scenario.reserved !== undefined)
      await lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: scenario.name,
          ReservedConcurrentExecutions: scenario.reserved,
        }),
      )
    const t0 = performance.now()
    const r = await burst(lambda, scenario.name)
    const wallS = (performance.now() - t0) / 1000
    const status = await localStatus()
    const peak = (status.environments?.[scenario.name] as {peak?: number} | undefined)?.peak
    const throttledTotal = [...r.throttled.values()].reduce((a, b) => a + b, 0)
    console.log(`${scenario.label}: ${N} concurrent calls in ${wallS.toFixed(1)} s`)
    console.log(
      `  completed ${r.completed}, ` +
        `throttled ${throttledTotal}` +
        `${r.throttled.size ? ` (${[...r.throttled].map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}, other ` +
        `errors ${r.others.length}${r.others.length ? ` (${[...new Set(r.others)].slice(0, 3).join('; ')})` : ''}`,
    )
    console.log(
      `  lost ${N - r.completed - throttledTotal - r.others.length}, duplicated request ` +
        `ids ${r.completed - r.unique}, handler-side invocations ${r.handled} (= ` +
        `completed: ${r.handled === r.completed})`,
    )
    console.log(
      `  latency p50 ${pct(r.latencies, 50).toFixed(1)} ms, p99 ${pct(r.latencies, 99).toFixed(1)} ms; peak ` +
        `environments ${peak}`,
    )
  }
  const idleContainers = (await findContainersByLabel(engine, `dev.faas.local.pid=${pid}`)).length
  const fdsAfter = fds(pid)
  const memAfter = memory(pid)
  console.log(
    `service after both bursts: ${fdsAfter} open fds (before ${fdsBefore}; each idle environment holds its Runtime ` +
      `API connection and engine streams), RSS ${memAfter.rssMb.toFixed(1)} MB, peak ` +
      `RSS ${memAfter.peakMb.toFixed(1)} MB, ${idleContainers} idle environment containers`,
  )
  // Deleting the functions retires their environments: what remains is what leaked.
  const {DeleteFunctionCommand} = await import('@aws-sdk/client-lambda')
  for (const s of scenarios) await lambda.send(new DeleteFunctionCommand({FunctionName: s.name}))
  lambda.destroy()
  // The client's keep-alive sockets close on the service's side shortly after the client lets go.
  await pollUntil(async () => fds(pid) <= fdsBefore, {timeoutMs: 30_000})
  const fdsClean = fds(pid)
  // The service's own loop keeper (disk-backed /tmp) stays with it: not a function's container.
  const containersClean = (await findContainersByLabel(engine, `dev.faas.local.pid=${pid}`)).filter(
    (c) => c.labels[FUNCTION_LABEL],
  ).length
  console.log(
    `after deleting the functions: ${fdsClean} open fds (before ${fdsBefore}), ${containersClean} containers, ` +
      `RSS ${memory(pid).rssMb.toFixed(1)} MB`,
  )
  await stopLocalService()
  console.log(`after stop: ${(await findContainersByLabel(engine, `dev.faas.local.pid=${pid}`)).length} containers`)
}

try {
  await main()
} finally {
  await stopLocalService().catch(() => {})
  rmSync(home, {recursive: true, force: true})
}
