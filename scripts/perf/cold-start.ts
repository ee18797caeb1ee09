/**
 * Cold starts of the local Lambda service (figures printed, never asserted), issue 18's figures:
 *   node --import tsx scripts/perf/cold-start.ts [--cold 5] [--concurrent 16]     (FAAS_PERF_SMOKE=1: 2 and 4)
 * 1. a trivial Python function's cold first response (client-side) vs a bare `docker start` of a
 *    host-network container from the same image, in the same run;
 * 2. its Init Duration (REPORT) vs the runtime's own init measured directly (`python3 -c` importing
 *    the runtime client and the handler in the same image), with the FAAS_INIT_BREAKDOWN figures;
 * 3. N concurrent cold calls (one function, N environments): p99 vs the single cold call, with the default pool
 *    (one sandbox prepared per function) and with N prepared, and the least time N runtime inits take on this
 *    machine's cores (N × the direct init, divided among the cores);
 * 4. `faas local start --detach` to the first successful call (create the function, invoke it); `--detach-runs N`
 *    measures only this, N times, with the medians (run it on two checkouts to compare them).
 * Each is measured before and after sandboxes prepared ahead: `--no-prepare` lines are the whole path (every cold call
 * creates and starts its container), the others the default (a cold call claims a sandbox prepared ahead).
 */
import {CreateFunctionCommand, InvokeCommand, LambdaClient, waitUntilFunctionActiveV2} from '@aws-sdk/client-lambda'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {waitBounds} from '../../src/aws/lambda.js'
import {parseInitBreakdown} from '../../src/core/init-breakdown.js'
import {pollUntil} from '../../src/core/wait.js'
import {parseReport} from '../../src/core/report.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {CORES, machineBusySeconds} from './lib/machine-cpu.js'

const smoke = process.env.FAAS_PERF_SMOKE === '1'
const {values} = parseArgs({
  options: {
    cold: {type: 'string', default: smoke ? '2' : '5'},
    concurrent: {type: 'string', default: smoke ? '4' : '16'},
    port: {type: 'string', default: process.env.FAAS_LOCAL_PORT ?? '9871'},
    'detach-runs': {type: 'string'},
  },
})
const COLD = Number(values.cold)
const CONCURRENT = Number(values.concurrent)
const MEMORY = 1769
const engine = new DockerEngine()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!
}
const ms = (x: number) => `${x.toFixed(1)} ms`

/**
 * `docker start` of a container from the image (the container exits at once): on the host's network (the issue's
 * reference), or with a network namespace of its own ('none'), what each sandbox and, before, the loop keeper paid.
 */
async function bareStart(image: string, network: 'host' | 'none' = 'host'): Promise<number> {
  const container = await engine.docker.createContainer({
    Image: image,
    Entrypoint: ['python3', '-c', 'pass'],
    HostConfig: {NetworkMode: network},
  })
  try {
    const t = performance.now()
    await container.start()
    return performance.now() - t
  } finally {
    await container.remove({force: true}).catch(() => {})
  }
}

/** The runtime's init measured inside the image: importing the runtime client and the handler. */
async function directInit(image: string): Promise<number> {
  // A whole python3 process (interpreter start included, as in Init Duration), timed by a parent python3.
  const child = 'import sys; sys.path.insert(0, "/var/task"); import awslambdaric.bootstrap, handler'
  const script =
    `import subprocess, time; t = time.perf_counter(); subprocess.run(["python3", "-c", ${JSON.stringify(child)}], ` +
    'check=True); print((time.perf_counter() - t) * 1000)'
  const container = await engine.docker.createContainer({
    Image: image,
    Entrypoint: ['python3', '-c', script],
    HostConfig: {NetworkMode: 'host'},
  })
  try {
    await container.start()
    await container.wait()
    const out = (await container.logs({stdout: true, stderr: true})) as Buffer
    const line =
      out
        .toString('utf8')
        .replace(/[^\x20-\x7e\n]/g, '')
        .trim()
        .split('\n')
        .pop() ?? ''
    return Number(line.replace(/^.*?([\d.]+)$/, '$1'))
  } finally {
    await container.remove({force: true}).catch(() => {})
  }
}

async function createFunction(lambda: LambdaClient, name: string, image: string): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      PackageType: 'Image',
      Code: {ImageUri: image},
      ImageConfig: {Command: ['handler.trivial']},
      MemorySize: MEMORY,
      Timeout: 30,
      Role: 'arn:aws:iam::000000000000:role/perf',
    }),
  )
  // As deploy does (its waiter bounds): clients wait for Active, so a prepared sandbox (when there is one) is ready.
  await waitUntilFunctionActiveV2({client: lambda, ...(await waitBounds(lambda))}, {FunctionName: name})
}

/**
 * A plain call (no LogType Tail: a tail waits for the engine's copy of the output to settle); REPORT and the breakdown
 * are read from the service's own log of the function, when it runs in this process.
 */
async function coldCall(lambda: LambdaClient, name: string, logsOf?: (name: string) => string[]) {
  const t = performance.now()
  const out = await lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from('{}')}))
  const clientMs = performance.now() - t
  if (out.FunctionError) throw new Error(`${name}: ${Buffer.from(out.Payload ?? []).toString('utf8')}`)
  const log = (logsOf?.(name) ?? []).join('\n')
  return {clientMs, initMs: parseReport(log)?.initDurationMs, breakdown: parseInitBreakdown(log)}
}

const image = await fixtureImage(engine)
if (values['detach-runs']) {
  const runs: Array<Awaited<ReturnType<typeof detachToFirstCall>>> = []
  for (let i = 0; i < Number(values['detach-runs']); i++) runs.push(await detachToFirstCall())
  for (const d of runs) console.log(detachLine('local start --detach   ', d))
  const of = (key: keyof (typeof runs)[0]) => median(runs.map((d) => d[key]))
  console.log(
    detachLine('median                 ', {
      startMs: of('startMs'),
      activeMs: of('activeMs'),
      firstCallMs: of('firstCallMs'),
    }),
  )
  process.exit(0)
}
console.log(`cold starts — image ${image}, ${MEMORY} MB per environment${smoke ? ' (smoke)' : ''}`)
const bare: number[] = []
const ownNetns: number[] = []
for (let i = 0; i < Math.max(2, COLD); i++) {
  bare.push(await bareStart(image))
  ownNetns.push(await bareStart(image, 'none'))
}
const direct: number[] = []
for (let i = 0; i < Math.max(1, Math.min(3, COLD)); i++) direct.push(await directInit(image))

/** COLD functions created (waiting for Active, as deploy does) and called once each: their cold calls. */
async function coldSeries(lambda: LambdaClient, prefix: string, service: LocalService) {
  const cold = []
  for (let i = 0; i < COLD; i++) {
    await createFunction(lambda, `${prefix}-${i}`, image)
    cold.push(await coldCall(lambda, `${prefix}-${i}`, (name) => service.logs.get(name) ?? []))
  }
  return cold
}

const breakdownLine = (cold: Array<Awaited<ReturnType<typeof coldCall>>>) => {
  const b = cold.map((c) => c.breakdown).filter(Boolean)
  return b.length === 0
    ? 'no breakdown line'
    : `image ${ms(median(b.map((x) => x!.imageMs)))}  create ${ms(median(b.map((x) => x!.createMs)))}` +
        `  start ${ms(median(b.map((x) => x!.startMs)))}  init ${ms(median(b.map((x) => x!.initMs)))}` +
        (b.every((x) => x!.prepared) ? '  (prepared ahead: image, create and start were off the call)' : '')
}

const run = `${process.pid}`
const bareMs = median(bare)
// Before: no sandbox prepared ahead (--no-prepare), every cold call creates and starts its container.
{
  const service = await new LocalService(engine, {port: 0, preparedPerFunction: 0}).start()
  const lambda = new LambdaClient({endpoint: service.url, region: 'us-east-1', credentials: service.credentials})
  try {
    const cold = await coldSeries(lambda, `whole-${run}`, service)
    const first = median(cold.map((c) => c.clientMs))
    console.log(
      `--no-prepare cold first response median ${ms(first)}  (${cold.map((c) => ms(c.clientMs)).join(', ')})` +
        `   ratio ${(first / bareMs).toFixed(2)} x bare start`,
    )
    console.log(`--no-prepare Init Duration median ${ms(median(cold.map((c) => c.initMs ?? NaN)))}`)
    console.log(`--no-prepare breakdown (median) ${breakdownLine(cold)}`)
  } finally {
    lambda.destroy()
    await service.close()
  }
}

// After: sandboxes prepared ahead (the default).
let singleColdMs = NaN
const service = await new LocalService(engine, {port: 0, maxEnvironmentsPerFunction: Math.max(16, CONCURRENT)}).start()
const lambda = new LambdaClient({endpoint: service.url, region: 'us-east-1', credentials: service.credentials})
try {
  const cold = await coldSeries(lambda, `cold-${run}`, service)
  const first = median(cold.map((c) => c.clientMs))
  singleColdMs = first
  console.log(`cold first response     median ${ms(first)}  (${cold.map((c) => ms(c.clientMs)).join(', ')})`)
  console.log(
    `bare docker start       median ${ms(bareMs)}  (host network, same image)   ratio ${(first / bareMs).toFixed(2)} x`,
  )
  console.log(`  with a network namespace of its own ('none'): median ${ms(median(ownNetns))}`)
  const init = median(cold.map((c) => c.initMs ?? NaN))
  const directMs = median(direct)
  console.log(
    `Init Duration           median ${ms(init)}   direct runtime init ${ms(directMs)}   ` +
      `ratio ${(init / directMs).toFixed(2)} x`,
  )
  console.log(`breakdown (median)      ${breakdownLine(cold)}`)
  await createFunction(lambda, `burst-${run}`, image)
  const burst = await Promise.all(Array.from({length: CONCURRENT}, () => coldCall(lambda, `burst-${run}`)))
  const burstP99 = p99(burst.map((c) => c.clientMs))
  console.log(
    `${CONCURRENT} concurrent cold calls p99 ${ms(burstP99)}   vs single ${ms(first)}   ` +
      `ratio ${(burstP99 / first).toFixed(2)} x`,
  )
} finally {
  lambda.destroy()
  await service.close()
}

// The burst again with as many sandboxes prepared as calls (--prepared N): what a larger pool buys on this machine.
{
  const many = {preparedPerFunction: CONCURRENT, preparedTotal: CONCURRENT}
  const service = await new LocalService(engine, {port: 0, maxEnvironmentsPerFunction: CONCURRENT, ...many}).start()
  const lambda = new LambdaClient({endpoint: service.url, region: 'us-east-1', credentials: service.credentials})
  try {
    const name = `burst-prepared-${run}`
    await createFunction(lambda, name, image)
    const pool = service.versionPools.pool(name)
    await pollUntil(async () => pool.stats().prepared >= CONCURRENT, {timeoutMs: 120_000})
    const busy = machineBusySeconds()
    const burst = await Promise.all(Array.from({length: CONCURRENT}, () => coldCall(lambda, name)))
    const burstBusyMs = (machineBusySeconds() - busy) * 1000
    const burstP99 = p99(burst.map((c) => c.clientMs))
    console.log(
      `${CONCURRENT} concurrent cold calls, --prepared ${CONCURRENT}: p99 ${ms(burstP99)}   ` +
        `ratio ${(burstP99 / singleColdMs).toFixed(2)} x single`,
    )
    // Each call's environment runs its own init (as on Lambda), and inits are CPU: N of them share the machine's cores.
    const initsMs = CONCURRENT * median(direct)
    console.log(
      `  the burst kept the machine busy ${ms(burstBusyMs)} of CPU; ${CONCURRENT} runtime inits alone (the direct ` +
        `init each) are ${ms(initsMs)}: on ${CORES} cores the last answer comes after ${ms(initsMs / CORES)} at ` +
        `least, ${(initsMs / CORES / singleColdMs).toFixed(2)} x single`,
    )
  } finally {
    lambda.destroy()
    await service.close()
  }
}

/** `faas local start --detach` on its own FAAS_HOME and port, then create + invoke through the SDK. */
async function detachToFirstCall(
  extra: string[] = [],
): Promise<{startMs: number; activeMs: number; firstCallMs: number}> {
  const home = mkdtempSync(join(tmpdir(), 'faas-perf-cold-'))
  const env = {...process.env, FAAS_HOME: home, FAAS_LOCAL_PORT: values.port}
  const cli = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/run.js', ...args], {env, stdio: ['ignore', 'ignore', 'pipe']})
      let err = ''
      child.stderr.on('data', (d) => (err += d))
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`faas ${args.join(' ')}: ${err}`))))
    })
  const t = performance.now()
  try {
    await cli(['local', 'start', '--detach', ...extra])
    const startMs = performance.now() - t
    const secrets = JSON.parse(readFileSync(join(home, 'local', 'credentials.json'), 'utf8'))
    const client = new LambdaClient({
      endpoint: `http://127.0.0.1:${values.port}`,
      region: 'us-east-1',
      credentials: {accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey},
    })
    await createFunction(client, 'first-call', image)
    const activeMs = performance.now() - t
    await coldCall(client, 'first-call')
    client.destroy()
    return {startMs, activeMs, firstCallMs: performance.now() - t}
  } finally {
    await cli(['local', 'stop']).catch(() => {})
    rmSync(home, {recursive: true, force: true})
  }
}

function detachLine(label: string, d: {startMs: number; activeMs: number; firstCallMs: number}): string {
  return `${label} ${ms(d.startMs)}   function Active ${ms(d.activeMs)}   first successful call ${ms(d.firstCallMs)}`
}
console.log(detachLine('local start --detach --no-prepare', await detachToFirstCall(['--no-prepare'])))
console.log(detachLine('local start --detach   ', await detachToFirstCall()))
