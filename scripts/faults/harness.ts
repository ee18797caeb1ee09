// What every fault scenario shares: the built faas binary run in the background with its own FAAS_HOME, ports and
// benchmarks folder (fz: a handler that sleeps event.sleep seconds; fzb: the same with a slow build step), and the
// interrupt-then-rerun check most scenarios are made of.
import {execa, type ResultPromise} from 'execa'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ListBucketsCommand, ListObjectsV2Command, S3Client} from '@aws-sdk/client-s3'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {health as serviceHealth} from '../../src/local/service-process.js'
import {scaffoldFiles} from '../../src/core/scaffold.js'
import {waitFor} from '../../test/helpers/wait.js'

const waitFor_ = waitFor

export interface Outcome {
  observed: string
  pass: boolean
}
export interface Scenario {
  name: string
  expected: string
  run: () => Promise<Outcome>
}

export const SERVICE_PORT = process.env.FAAS_FAULTS_PORT ?? '9353'
export const S3_PORT = process.env.FAAS_FAULTS_S3_PORT ?? '9354'
export const REGISTRY = process.env.FAAS_TEST_REGISTRY ?? '127.0.0.1:5000'
export const home = mkdtempSync(join(tmpdir(), 'faas-faults-home-'))
export const benchmarks = mkdtempSync(join(tmpdir(), 'faas-faults-benchmarks-'))
// Tags and names of this run's images and functions carry its pid, so reruns never meet leftovers.
const run = `f${process.pid}`
export const baseEnv: Record<string, string> = {
  FAAS_HOME: home,
  FAAS_LOCAL_PORT: SERVICE_PORT,
  FAAS_LOCAL_S3_PORT: S3_PORT,
  FAAS_BENCHMARKS_DIR: benchmarks,
  FAAS_PLATFORM: 'linux/amd64',
  FAAS_BASE_IMAGE: 'local',
  FAAS_TARGET: 'local',
  FORCE_COLOR: '0',
}

// ---------------------------------------------------------------- fixtures

/** fz: one function whose handler sleeps event.sleep seconds; fzb: the same with a slow build step. */
export function writeBenchmarks(): void {
  for (const [name, slow] of [
    ['fz', false],
    ['fzb', true],
  ] as const) {
    for (const [path, text] of Object.entries(scaffoldFiles(name, 'fn'))) {
      mkdirSync(join(benchmarks, name, path, '..'), {recursive: true})
      writeFileSync(join(benchmarks, name, path), text)
    }
    writeFileSync(
      join(benchmarks, name, 'fn', 'handler.py'),
      'import time\n\ndef lambda_handler(event, context):\n    time.sleep(float(event.get("sleep", 0)))\n    return ' +
        '{"ok": True}\n',
    )
    if (slow) {
      const dockerfile = join(benchmarks, name, 'docker', 'Dockerfile.Lambda')
      writeFileSync(
        dockerfile,
        readFileSync(dockerfile, 'utf8').replace(
          'CMD [',
          'COPY nonce /nonce\nRUN echo slow-step-begins && sleep 12\nCMD [',
        ),
      )
      writeFileSync(join(benchmarks, name, 'nonce'), `${Date.now()}`)
    }
  }
  execFileSync('cp', ['-r', join(PROJECT_ROOT, 'benchmarks', 'map-reduce'), benchmarks])
}

export interface Running {
  child: ResultPromise
  err: () => string
  out: () => string
  exited: Promise<number>
}

/** The built faas binary, in the background. */
export function start(args: string[], env: Record<string, string> = {}, input?: string): Running {
  let out = ''
  let err = ''
  const child = execa('node', [join(PROJECT_ROOT, 'bin', 'run.js'), ...args], {
    reject: false,
    env: {...baseEnv, ...env},
    input,
    stdin: input === undefined ? 'ignore' : undefined,
    buffer: false,
  })
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (err += d))
  const exited = child.then((r) => r.exitCode ?? (r.signal ? 128 : -1))
  return {child, err: () => err, out: () => out, exited}
}

export async function faas(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<{code: number; out: string; err: string}> {
  const r = start(args, env, input)
  const code = await r.exited
  return {code, out: r.out(), err: r.err()}
}

export const oneLine = (text: string, max = 160) => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max)}…` : line
}
export const errorLine = (text: string) => oneLine(/(Error: .*|Interrupted .*)/s.exec(text)?.[1] ?? text)
export const hasStack = (text: string) => /\n\s+at .+:\d+:\d+/.test(text)

export async function waitOutput(r: Running, pattern: RegExp, what: string): Promise<void> {
  let code: number | undefined
  void r.exited.then((c) => (code = c))
  await waitFor(what, () => pattern.test(r.err() + r.out()), {
    intervalMs: 50,
    giveUp: () => (code === undefined ? undefined : `exited ${code}: ${oneLine(r.err())}`),
  })
}

export const docker = (...args: string[]) => execa('docker', args, {reject: false}).then((r) => String(r.stdout).trim())
export const serviceContainers = async (serviceId: string) =>
  (await docker('ps', '-aq', '--filter', `label=dev.faas.local=${serviceId}`)).split('\n').filter(Boolean)
// The service answers only signed requests: ask it as the CLI does, with the key pair under FAAS_HOME.
Object.assign(process.env, {FAAS_HOME: home, FAAS_LOCAL_PORT: SERVICE_PORT, FAAS_LOCAL_S3_PORT: S3_PORT})
export const health = () => serviceHealth(`http://127.0.0.1:${SERVICE_PORT}`).catch(() => undefined)
export const busy = async () =>
  Object.values<{busy?: number}>((await health())?.environments ?? {}).some((e) => (e.busy ?? 0) > 0)

/** Whether the local S3 store holds any object whose key contains `part` (an upload has begun). */
export async function s3Holds(part: string): Promise<boolean> {
  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${S3_PORT}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'x', secretAccessKey: 'y'},
  })
  try {
    for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
      const listed = await s3.send(new ListObjectsV2Command({Bucket: bucket.Name!, Prefix: `inputs/${part}`}))
      if ((listed.KeyCount ?? 0) > 0) return true
    }
    return false
  } catch {
    return false
  } finally {
    s3.destroy()
  }
}

export async function interruptScenario(
  signal: 'SIGINT' | 'SIGTERM',
  args: string[],
  waitFor: RegExp | (() => boolean),
  rerun: string[],
  options: {
    env?: Record<string, string>
    before?: () => Promise<void>
    between?: () => Promise<void>
    rerunCheck?: (r: {code: number; out: string; err: string}) => string | undefined
  } = {},
): Promise<Outcome> {
  await options.before?.()
  const r = start(args, options.env)
  if (typeof waitFor === 'function') await waitFor_(`${args.join(' ')} to get going`, waitFor)
  else await waitOutput(r, waitFor, `${args.join(' ')} to reach ${waitFor}`)
  r.child.kill(signal)
  const code = await r.exited
  const expectedCode = signal === 'SIGINT' ? 130 : 143
  const line = /Interrupted `[^`]+` \(SIG\w+\)[^\n]*/.exec(r.err())?.[0] ?? ''
  await options.between?.()
  const again = await faas(rerun, options.env)
  const problem = options.rerunCheck?.(again)
  const pass =
    code === expectedCode &&
    /Interrupted `faas [a-z ]+` \(SIG\w+\).*To resume, run the same command again/.test(line) &&
    again.code === 0 &&
    !problem
  return {
    pass,
    observed:
      `exit ${code}, "${oneLine(line, 110)}"; rerun exit ${again.code}${problem ? ` (${problem})` : ''}` +
      `${again.code ? `: ${errorLine(again.err)}` : ''}`,
  }
}

export const tag = (suffix: string) => `${run}-${suffix}`
/** The arguments of `faas run map-reduce` on generated input of this size and seed. */
export const mapReduceRun = (inputMb: number, shards: number, seed: number): string[] => [
  'run',
  'map-reduce',
  '--input-mb',
  String(inputMb),
  '--shards',
  String(shards),
  '--seed',
  String(seed),
]
export const bump = () => writeFileSync(join(benchmarks, 'fzb', 'nonce'), `${Date.now()}-${Math.random()}`)
