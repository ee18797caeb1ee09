/**
 * API routes side by side with `sam local start-api`, from the same SAM template (figures printed, never asserted):
 *   node --import tsx scripts/perf/sam-local.ts [--calls 200] [--port 9340]
 * The template has two HttpApi routes on the URL fixture's image: GET /trivial (handler.trivial) and GET /sleep
 * (handler.sleep, 1 s). faas serves it with `faas local start --template` (a detached service, its own FAAS_HOME);
 * SAM CLI with `sam local start-api --skip-pull-image --warm-containers EAGER` (its fastest mode), SAM CLI being
 * FAAS_SAM_CLI or `sam` on PATH (pip install aws-sam-cli==1.170.0). For each: warm p50/p99 of --calls sequential
 * GET /trivial after a warm-up, and the wall time of 8 concurrent GET /sleep (1 s each).
 * Smoke mode (FAAS_PERF_SMOKE=1): 10 calls, faas only (SAM is left out).
 */
import {execa, type ResultPromise} from 'execa'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {loadSettings} from '../../src/core/settings.js'
import {pollUntil} from '../../src/core/wait.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {startDetached, stopLocalService} from '../../src/local/service-process.js'
import {deployTemplate} from '../../src/services/template-deploy.js'
import {createLocalTarget} from '../../src/targets/local.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'
import {SMOKE, sized, skipInSmoke} from './lib/smoke.js'

const {values} = parseArgs({
  options: {
    calls: {type: 'string', default: sized('200', '10')},
    port: {type: 'string', default: process.env.FAAS_LOCAL_PORT ?? '9340'},
  },
})
const CALLS = Number(values.calls)
const dir = mkdtempSync(join(tmpdir(), 'faas-sam-perf-'))
process.env.FAAS_HOME = join(dir, 'home')
process.env.FAAS_LOCAL_PORT = values.port

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const template = (image: string) => `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Trivial:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: ${image}
      ImageConfig: {Command: [handler.trivial]}
      MemorySize: 512
      Timeout: 10
      Events:
        Get: {Type: HttpApi, Properties: {Path: /trivial, Method: get}}
  Sleep:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: ${image}
      ImageConfig: {Command: [handler.sleep]}
      MemorySize: 512
      Timeout: 10
      Events:
        Get: {Type: HttpApi, Properties: {Path: /sleep, Method: get}}
`

async function measure(who: string, base: string): Promise<void> {
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`)
    await res.text()
    if (res.status !== 200) throw new Error(`${who}: ${path} answered ${res.status}`)
  }
  for (let i = 0; i < Math.max(3, CALLS / 10); i++) await get('/trivial')
  const times: number[] = []
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now()
    await get('/trivial')
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  const burst = async () => {
    const t0 = performance.now()
    await Promise.all(Array.from({length: 8}, () => get('/sleep?seconds=1')))
    return (performance.now() - t0) / 1000
  }
  // The first burst may start environments; the second finds what the first left warm.
  const first = await burst()
  const second = await burst()
  console.log(
    `${who.padEnd(24)} warm p50 ${pct(times, 50).toFixed(2)} ms  p99 ${pct(times, 99).toFixed(2)} ms  ` +
      `8 concurrent 1 s requests in ${second.toFixed(2)} s (first burst ${first.toFixed(2)} s)`,
  )
}

async function faas(file: string): Promise<void> {
  const settings = loadSettings()
  const state = await startDetached(settings, {idleTimeoutS: 600})
  const target = createLocalTarget(settings, {endpoint: state.url})
  const result = await deployTemplate(target, settings, {template: file, parameters: {}}, () => {})
  await measure('faas local (template)', result.api!.url.replace(/\/$/, ''))
}

async function sam(file: string, image: string): Promise<void> {
  const bin = process.env.FAAS_SAM_CLI ?? 'sam'
  if (SMOKE) return void skipInSmoke('sam local start-api', 'a full run starts it')
  const version = await execa(bin, ['--version'], {reject: false})
  if (version.exitCode !== 0)
    return void console.log(`sam local start-api left out: no SAM CLI (${bin}); pip install aws-sam-cli==1.170.0`)
  const port = Number(values.port) + 1
  const child: ResultPromise = execa(
    bin,
    ['local', 'start-api', '-t', file, '--skip-pull-image', '--warm-containers', 'EAGER', '--port', String(port)],
    {cwd: dir, reject: false, all: true, env: {SAM_CLI_TELEMETRY: '0'}},
  )
  const base = `http://127.0.0.1:${port}`
  try {
    const up = await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`sam local start-api exited: ${String((await child).all)}`)
        return fetch(`${base}/trivial`).then(
          (r) => r.status === 200,
          () => false,
        )
      },
      {timeoutMs: 300_000},
    )
    if (!up) throw new Error(`sam local start-api did not answer on ${base} within 300 s`)
    await measure(`sam local start-api ${version.stdout.replace(/^SAM CLI, version /, '')}`, base)
  } finally {
    child.kill('SIGINT')
    await child
    // SAM tags a copy of the image with its emulator (<repo>:rapid-<arch>): it goes with this run.
    const repo = image.slice(0, image.lastIndexOf(':'))
    await execa('docker', ['rmi', `${repo}:rapid-x86_64`], {reject: false})
  }
}

try {
  const image = await fixtureImage(new DockerEngine(), 'urls')
  const file = join(dir, 'template.yaml')
  writeFileSync(file, template(image))
  console.log(`${CALLS} sequential warm requests to GET /trivial, then 8 concurrent GET /sleep (1 s):`)
  await faas(file)
  await sam(file, image)
} finally {
  await stopLocalService()
  rmSync(dir, {recursive: true, force: true})
}
