/**
 * What alias routing costs on the local Lambda service (figures printed, never asserted):
 *   node --import tsx scripts/perf/versions.ts [--n 400]
 * Warm invocation latency p50/p99 of one function called unqualified ($LATEST), through an alias to version 1,
 * and through a weighted alias (version 1, 50 % to version 2), the three kinds of call interleaved so machine
 * noise hits them alike (trivial handler, 1,769 MB, one sequential client with keep-alive); and the qualifier
 * resolution alone (what an alias call adds inside the service), timed in a loop.
 * Then provisioned concurrency: 2 environments provisioned on an alias and 2 concurrent clients calling it (load
 * needing ≤ 2 environments), rounds interleaved with the same 2-client load on a function whose 2 on-demand
 * environments were warmed first; cold starts (REPORT lines with Init Duration) and p50/p99 of each.
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import {parseArgs} from 'node:util'

import {pollUntil} from '../../src/core/wait.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {signRequest} from '../../src/local/sigv4.js'
import {requestedQualifier, resolveQualifier} from '../../src/local/versions.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {lambdaClient} from '../../test/helpers/local.js'
import {sized} from './lib/smoke.js'

const {values} = parseArgs({options: {n: {type: 'string', default: sized('400', '20')}}})
const N = Number(values.n)
const engine = new DockerEngine()

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const ms = (x: number) => `${x.toFixed(2)} ms`

async function post(service: LocalService, path: string, onLog?: (log: string) => void): Promise<number> {
  const url = new URL(path, service.url)
  const extra: Record<string, string> = onLog ? {'x-amz-log-type': 'Tail'} : {}
  const headers = await signRequest(
    url,
    {method: 'POST', body: Buffer.from('{}'), headers: extra},
    service.credentials,
    service.options.region,
  )
  const t = performance.now()
  const res = await fetch(url, {method: 'POST', body: '{}', headers: {...headers, ...extra}})
  await res.text()
  if (res.status !== 200) throw new Error(`${path}: status ${res.status}`)
  const elapsed = performance.now() - t
  onLog?.(Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8'))
  return elapsed
}

const image = await fixtureImage(engine)
const service = await new LocalService(engine, {port: 0}).start()
try {
  const lambda = lambdaClient(service)
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'routed',
      Role: 'arn:aws:iam::000000000000:role/perf',
      PackageType: 'Image',
      Code: {ImageUri: image},
      ImageConfig: {Command: ['handler.trivial']},
      MemorySize: 1769,
      Timeout: 30,
    }),
  )
  await lambda.send(new PublishVersionCommand({FunctionName: 'routed'}))
  await lambda.send(new UpdateFunctionConfigurationCommand({FunctionName: 'routed', Description: 'v2', Timeout: 31}))
  await lambda.send(new PublishVersionCommand({FunctionName: 'routed'}))
  await lambda.send(new CreateAliasCommand({FunctionName: 'routed', Name: 'live', FunctionVersion: '1'}))
  await lambda.send(
    new CreateAliasCommand({
      FunctionName: 'routed',
      Name: 'canary',
      FunctionVersion: '1',
      RoutingConfig: {AdditionalVersionWeights: {'2': 0.5}},
    }),
  )
  lambda.destroy()
  const kinds = [
    ['unqualified', '/2015-03-31/functions/routed/invocations'],
    ['alias live', '/2015-03-31/functions/routed/invocations?Qualifier=live'],
    ['weighted alias', '/2015-03-31/functions/routed/invocations?Qualifier=canary'],
  ] as const
  // Warm every environment first (the weighted alias's two versions included).
  for (let i = 0; i < 20; i++) for (const [, path] of kinds) await post(service, path)
  const times = new Map<string, number[]>(kinds.map(([kind]) => [kind, []]))
  for (let i = 0; i < N; i++) for (const [kind, path] of kinds) times.get(kind)!.push(await post(service, path))
  console.log(`alias routing on the local service — trivial handler, 1,769 MB, ${N} interleaved calls of each kind`)
  const base = pct(
    times.get('unqualified')!.sort((a, b) => a - b),
    50,
  )
  for (const [kind] of kinds) {
    const sorted = times.get(kind)!.sort((a, b) => a - b)
    const p50 = pct(sorted, 50)
    const over = kind === 'unqualified' ? '' : `  (${(((p50 - base) / base) * 100).toFixed(1)} % p50 over unqualified)`
    console.log(`  ${kind.padEnd(15)} p50 ${ms(p50)}  p99 ${ms(pct(sorted, 99))}${over}`)
  }
  const fn = service.functions.get('routed')!
  const loops = sized(200_000, 2_000)
  const t = performance.now()
  for (let i = 0; i < loops; i++) resolveQualifier(fn, requestedQualifier('routed', 'canary'))
  console.log(
    `  qualifier resolution (weighted alias) ${(((performance.now() - t) * 1000) / loops).toFixed(2)} µs per call`,
  )
  await provisionedFigures(lambdaClient(service))
} finally {
  await service.close()
}

async function provisionedFigures(lambda: ReturnType<typeof lambdaClient>): Promise<void> {
  const CLIENTS = 2
  for (const name of ['provisioned', 'on-demand']) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: 'arn:aws:iam::000000000000:role/perf',
        PackageType: 'Image',
        Code: {ImageUri: image},
        ImageConfig: {Command: ['handler.trivial']},
        MemorySize: 1769,
        Timeout: 30,
      }),
    )
    await lambda.send(new PublishVersionCommand({FunctionName: name}))
    await lambda.send(new CreateAliasCommand({FunctionName: name, Name: 'live', FunctionVersion: '1'}))
  }
  await lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: 'provisioned',
      Qualifier: 'live',
      ProvisionedConcurrentExecutions: CLIENTS,
    }),
  )
  const ready = await pollUntil(
    async () =>
      (await lambda.send(new GetProvisionedConcurrencyConfigCommand({FunctionName: 'provisioned', Qualifier: 'live'})))
        .Status === 'READY',
    {timeoutMs: 300_000},
  )
  if (!ready) throw new Error('provisioned concurrency never became READY')
  lambda.destroy()
  const path = (name: string) => `/2015-03-31/functions/${name}/invocations?Qualifier=live`
  // The on-demand function's environments are started and warmed before anything is timed; provisioned ones never.
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({length: CLIENTS}, () => post(service, path('on-demand'))))
  const times = {provisioned: [] as number[], 'on-demand': [] as number[]}
  const cold = {provisioned: 0, 'on-demand': 0}
  for (let i = 0; i < N / CLIENTS; i++) {
    for (const name of ['provisioned', 'on-demand'] as const) {
      const round = await Promise.all(
        Array.from({length: CLIENTS}, () =>
          post(service, path(name), (log) => {
            if (/Init Duration/.test(log)) cold[name]++
          }),
        ),
      )
      times[name].push(...round)
    }
  }
  const p = (name: keyof typeof times, q: number) =>
    pct(
      times[name].sort((a, b) => a - b),
      q,
    )
  console.log(`provisioned concurrency — ${CLIENTS} provisioned, ${CLIENTS} concurrent clients, ${N} calls each side`)
  for (const name of ['provisioned', 'on-demand'] as const)
    console.log(
      `  ${(name === 'provisioned' ? 'provisioned' : 'warm on-demand').padEnd(15)} cold starts ${cold[name]}  ` +
        `p50 ${ms(p(name, 50))}  p99 ${ms(p(name, 99))}`,
    )
  console.log(`  provisioned p99 / warm on-demand p99 ${(p('provisioned', 99) / p('on-demand', 99)).toFixed(2)} x`)
}
process.exit(0)
