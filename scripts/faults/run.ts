// The fault matrix (issue 9): each scenario injects one fault into a real faas command (real Docker
// engine, registry, local service and S3 store; fake peers only for AWS error paths and broken
// sockets), checks what the user sees and that a rerun converges, and prints one table row.
//   bash scripts/faults/run.sh            every scenario
//   bash scripts/faults/run.sh push       only scenarios whose name matches "push"
import {execa, type ResultPromise} from 'execa'
import {execFileSync} from 'node:child_process'
import {createServer as createHttpServer, request as httpRequest, type Server} from 'node:http'
import {createServer as createNetServer} from 'node:net'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ListBucketsCommand, ListObjectsV2Command, S3Client} from '@aws-sdk/client-s3'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {health as serviceHealth} from '../../src/local/service-process.js'
import {scaffoldFiles} from '../../src/core/scaffold.js'
import {loadSettings} from '../../src/core/settings.js'
import {LocalTarget} from '../../src/targets/local.js'
import {startProxy, type Proxy} from '../../test/helpers/proxy.js'
import {waitFor} from '../../test/helpers/wait.js'

const waitFor_ = waitFor

interface Outcome {
  observed: string
  pass: boolean
}
interface Scenario {
  name: string
  expected: string
  run: () => Promise<Outcome>
}

const SERVICE_PORT = process.env.FAAS_FAULTS_PORT ?? '9353'
const S3_PORT = process.env.FAAS_FAULTS_S3_PORT ?? '9354'
const REGISTRY = process.env.FAAS_TEST_REGISTRY ?? '127.0.0.1:5000'
const home = mkdtempSync(join(tmpdir(), 'faas-faults-home-'))
const benchmarks = mkdtempSync(join(tmpdir(), 'faas-faults-benchmarks-'))
const run = `f${process.pid}`
const baseEnv: Record<string, string> = {
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
function writeBenchmarks(): void {
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

interface Running {
  child: ResultPromise
  err: () => string
  out: () => string
  exited: Promise<number>
}

/** The built faas binary, in the background. */
function start(args: string[], env: Record<string, string> = {}, input?: string): Running {
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

async function faas(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<{code: number; out: string; err: string}> {
  const r = start(args, env, input)
  const code = await r.exited
  return {code, out: r.out(), err: r.err()}
}

const oneLine = (text: string, max = 160) => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max)}…` : line
}
const errorLine = (text: string) => oneLine(/(Error: .*|Interrupted .*)/s.exec(text)?.[1] ?? text)
const hasStack = (text: string) => /\n\s+at .+:\d+:\d+/.test(text)

async function waitOutput(r: Running, pattern: RegExp, what: string): Promise<void> {
  let code: number | undefined
  void r.exited.then((c) => (code = c))
  await waitFor(what, () => pattern.test(r.err() + r.out()), {
    intervalMs: 50,
    giveUp: () => (code === undefined ? undefined : `exited ${code}: ${oneLine(r.err())}`),
  })
}

const docker = (...args: string[]) => execa('docker', args, {reject: false}).then((r) => String(r.stdout).trim())
const serviceContainers = async (serviceId: string) =>
  (await docker('ps', '-aq', '--filter', `label=dev.faas.local=${serviceId}`)).split('\n').filter(Boolean)
// The service answers only signed requests: ask it as the CLI does, with the key pair under FAAS_HOME.
Object.assign(process.env, {FAAS_HOME: home, FAAS_LOCAL_PORT: SERVICE_PORT, FAAS_LOCAL_S3_PORT: S3_PORT})
const health = () => serviceHealth(`http://127.0.0.1:${SERVICE_PORT}`).catch(() => undefined)
const busy = async () =>
  Object.values<{busy?: number}>((await health())?.environments ?? {}).some((e) => (e.busy ?? 0) > 0)

/** Whether the local S3 store holds any object whose key contains `part` (an upload has begun). */
async function s3Holds(part: string): Promise<boolean> {
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

async function interruptScenario(
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

// ---------------------------------------------------------------- fake peers

/** An HTTP server on 127.0.0.1 answering every request with `respond`. */
async function fakeServer(
  respond: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{url: string; hits: () => number; close: () => Promise<void>}> {
  let hits = 0
  const server: Server = createHttpServer((req, res) => {
    hits++
    req.resume()
    req.on('end', () => respond(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as {port: number}).port}`
  return {
    url,
    hits: () => hits,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

/** A registry front that forwards reads to the real registry and answers 503 to blob uploads. */
async function failingRegistry(): Promise<{address: string; close: () => Promise<void>}> {
  const [host, port] = REGISTRY.split(':')
  const server = createHttpServer((req, res) => {
    if (
      req.method === 'PATCH' ||
      req.method === 'PUT' ||
      (req.method === 'POST' && req.url?.includes('/blobs/uploads'))
    ) {
      req.resume()
      res
        .writeHead(503, {'content-type': 'application/json'})
        .end('{"errors":[{"code":"UNAVAILABLE","message":"injected 503"}]}')
      return
    }
    const upstream = httpRequest(
      {host, port: Number(port), method: req.method, path: req.url, headers: req.headers},
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${(server.address() as {port: number}).port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

const awsEnv = (url: string) => ({
  FAAS_TARGET: 'aws',
  AWS_ENDPOINT_URL: url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_ACCOUNT_ID: '123456789012',
  FAAS_REGISTRY: REGISTRY,
})

async function awsFault(kind: 'throttle' | '5xx' | 'reset'): Promise<Outcome> {
  const server =
    kind === 'reset'
      ? await (async () => {
          let hits = 0
          const s = createNetServer((socket) => {
            hits++
            socket.once('data', () => socket.resetAndDestroy())
          })
          await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
          return {
            url: `http://127.0.0.1:${(s.address() as {port: number}).port}`,
            hits: () => hits,
            close: () => new Promise<void>((resolve) => s.close(() => resolve())),
          }
        })()
      : await fakeServer((req, res) => {
          const status = kind === 'throttle' ? 429 : 503
          const code = kind === 'throttle' ? 'ThrottlingException' : 'ServiceUnavailableException'
          res
            .writeHead(status, {
              'content-type': 'application/json',
              'x-amzn-errortype': code,
              'x-amzn-requestid': 'fault',
            })
            .end(JSON.stringify({__type: code, message: `injected ${code}`, Message: `injected ${code}`}))
        })
  try {
    const calls: Array<[string, string[]]> = [
      ['invoke', ['invoke', '--function_name', 'fz-fn', '--payload', '{}']],
      ['deploy', ['deploy', '--function_name', 'fz-fn', '--repo_name', 'fz-fn']],
      ['destroy', ['destroy', '--function_name', 'fz-fn']],
      ['bench', ['bench', '-f', 'fz-fn', '--rps', '1', '--time', '1']],
      ['login', ['login']],
    ]
    const results: string[] = []
    let pass = true
    for (const [name, args] of calls) {
      const r = await faas(args, awsEnv(server.url))
      // bench may instead finish and record each failed call as an error, which is what it is for.
      const recorded = name === 'bench' && r.code === 0 && /[1-9]\d* errors/.test(r.err)
      const clear =
        recorded || (r.code !== 0 && /Error: /.test(r.err) && !hasStack(r.err) && !/TypeError|undefined/.test(r.err))
      pass &&= clear
      results.push(`${name} exit ${r.code}${clear ? '' : ` UNCLEAR: ${errorLine(r.err)}`}`)
      if (name === 'invoke') results.push(`"${errorLine(r.err).slice(0, 90)}"`)
    }
    return {pass, observed: `${results.join(', ')}; ${server.hits()} requests`}
  } finally {
    await server.close()
  }
}

// ---------------------------------------------------------------- disk and permissions

function tinyMount(options: {readOnly?: boolean; fill?: boolean} = {}): {dir: string; done: () => void} {
  const dir = mkdtempSync(join(tmpdir(), 'faas-faults-mnt-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=64k,mode=0700${options.readOnly ? ',ro' : ''}`, 'tmpfs', dir])
  if (options.fill) {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], {stdio: 'ignore'})
    } catch {
      // dd stops with ENOSPC: the file system is now full, which is the point.
    }
  }
  return {dir, done: () => execFileSync('umount', ['-l', dir])}
}

// ---------------------------------------------------------------- scenarios

const tag = (suffix: string) => `${run}-${suffix}`
let uploading = false
const bump = () => writeFileSync(join(benchmarks, 'fzb', 'nonce'), `${Date.now()}-${Math.random()}`)

const scenarios: Scenario[] = [
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during build`,
    expected: `exit ${signal === 'SIGINT' ? 130 : 143}, a line naming the build and how to resume; the rerun builds`,
    run: () =>
      interruptScenario(signal, ['build', 'fzb', '--verbose'], /slow-step-begins/, ['build', 'fzb'], {
        before: async () => bump(),
      }),
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during push`,
    expected: 'a line naming the push; the rerun pushes; a third run skips (digest already there)',
    run: async () => {
      const t = tag(`push-${signal}`)
      const built = await faas(['build', 'fz', '--tag', t])
      if (built.code !== 0) return {pass: false, observed: `setup build failed: ${errorLine(built.err)}`}
      const [host, port] = REGISTRY.split(':')
      const proxy = await startProxy({host, port: Number(port)})
      proxy.pause()
      try {
        const outcome = await interruptScenario(
          signal,
          ['push', 'fz', '--registry', proxy.address, '--tag', t],
          () => proxy.bytesIn > 0,
          ['push', 'fz', '--registry', proxy.address, '--tag', t],
          {between: async () => proxy.resume()},
        )
        const third = await faas(['push', 'fz', '--registry', proxy.address, '--tag', t, '--json'])
        const skipped = /already|skipped|unchanged|"pushed":\s*false/i.test(third.out + third.err)
        return {
          pass: outcome.pass && third.code === 0 && skipped,
          observed:
            `${outcome.observed}; third ` +
            `run ${skipped ? 'skipped the push' : `did not say it skipped: ${oneLine(third.out, 80)}`}`,
        }
      } finally {
        await proxy.close()
      }
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during deploy (local)`,
    expected: 'a line naming the deploy; the rerun deploys; nothing half-made',
    run: async () => {
      await faas(['build', 'fz'])
      const up = await faas(['local', 'start', '--detach'])
      if (up.code !== 0) return {pass: false, observed: `setup: ${errorLine(up.err)}`}
      await faas(['destroy', 'fz', '--yes'])
      // The deploy checks its image with the engine: through a paused socket proxy it hangs there.
      const socket = join(mkdtempSync(join(tmpdir(), 'faas-faults-sock-')), 'docker.sock')
      const proxy = await startProxy({path: '/var/run/docker.sock'}, {listenPath: socket})
      proxy.pause()
      try {
        return await interruptScenario(signal, ['deploy', 'fz'], () => proxy.bytesIn > 0, ['deploy', 'fz'], {
          env: {DOCKER_HOST: `unix://${socket}`},
          between: async () => proxy.resume(),
        })
      } finally {
        await proxy.close()
      }
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal, i): Scenario => ({
    name: `${signal} during upload (faas run)`,
    expected: 'a line naming the upload; the rerun uploads only what is missing and the answer is correct',
    run: () =>
      interruptScenario(
        signal,
        [
          'run',
          'map-reduce',
          '--input-mb',
          '96',
          '--shards',
          '48',
          '--seed',
          String(100 + i + Number(process.pid % 1000) * 2),
        ],
        () => uploading,
        [
          'run',
          'map-reduce',
          '--input-mb',
          '96',
          '--shards',
          '48',
          '--seed',
          String(100 + i + Number(process.pid % 1000) * 2),
          '--json',
        ],
        {
          before: async () => {
            // Interrupt once the first shards are in the store, so the rerun has something to reuse.
            uploading = false
            const seed = 100 + i + Number(process.pid % 1000) * 2
            void waitFor(`shards of seed ${seed} in the store`, () => s3Holds(`seed${seed}-`), {
              intervalMs: 200,
              timeoutMs: 600_000,
            }).then(
              () => (uploading = true),
              () => undefined,
            )
          },
          rerunCheck: (r) => {
            try {
              const record = JSON.parse(r.out)
              if (!record.correct) return 'wrong answer'
              return record.bytes.uploaded < record.bytes.input
                ? undefined
                : `uploaded everything again (${record.bytes.uploaded} of ${record.bytes.input} bytes)`
            } catch {
              return 'no record'
            }
          },
        },
      ),
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during invoke`,
    expected: 'a line naming the invocation; the rerun invokes',
    run: async () => {
      const deployed = await faas(['deploy', 'fz'])
      if (deployed.code !== 0) return {pass: false, observed: `setup: ${errorLine(deployed.err)}`}
      await faas(['invoke', '--function_name', 'fz-fn', '--payload', '{}'])
      // An earlier scenario's call may still run on the service: wait until this one is the busy one.
      await waitFor('the service to be idle', async () => !(await busy()), {intervalMs: 200})
      const r = start(['invoke', '--function_name', 'fz-fn', '--payload', '{"sleep": 20}'])
      await waitFor('the invocation to be running', busy, {intervalMs: 100})
      r.child.kill(signal)
      const code = await r.exited
      const line = /Interrupted `[^`]+` \(SIG\w+\)[^\n]*/.exec(r.err())?.[0] ?? ''
      const again = await faas(['invoke', '--function_name', 'fz-fn', '--payload', '{}'])
      return {
        pass: code === (signal === 'SIGINT' ? 130 : 143) && /To resume/.test(line) && again.code === 0,
        observed: `exit ${code}, "${oneLine(line, 100)}"; rerun exit ${again.code}`,
      }
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during bench`,
    expected: 'stops sending, keeps and writes what it measured (summary interrupted: true), exit 0',
    run: async () => {
      await faas(['deploy', 'fz'])
      const out = mkdtempSync(join(tmpdir(), 'faas-faults-bench-'))
      const r = start(['bench', '-f', 'fz-fn', '--rps', '5', '--time', '120', '--out', out])
      await waitOutput(r, /[1-9]\d*\/\d+ done/, 'completed calls')
      r.child.kill(signal)
      const code = await r.exited
      const summary = existsSync(join(out, 'summary.json'))
        ? JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
        : undefined
      return {
        pass: code === 0 && summary?.interrupted === true && summary.count > 0,
        observed:
          `exit ${code}, ` +
          `summary ${summary ? `interrupted=${summary.interrupted}, ${summary.count} calls` : 'missing'}`,
      }
    },
  })),
  {
    name: 'second Ctrl-C in bench --memory',
    expected: 'quits, but first restores the memory it changed (512 MB again)',
    run: async () => {
      await faas(['deploy', 'fz'])
      // Calls that take 5 s keep bench busy after the first Ctrl-C, so the second lands before its own restore.
      const r = start([
        'bench',
        '-f',
        'fz-fn',
        '--memory',
        '256,384',
        '--rps',
        '2',
        '--time',
        '60',
        '--payload',
        '{"sleep": 5}',
        '--out',
        mkdtempSync(join(tmpdir(), 'faas-faults-bench-')),
      ])
      await waitOutput(r, /256 MB[\s\S]*[1-9]\d* in flight/, 'calls in flight at 256 MB')
      r.child.kill('SIGINT')
      await waitOutput(r, /stopping/, 'the first Ctrl-C to be taken')
      r.child.kill('SIGINT')
      const code = await r.exited
      Object.assign(process.env, {FAAS_LOCAL_PORT: SERVICE_PORT, FAAS_HOME: home})
      const target = new LocalTarget(loadSettings(baseEnv), {})
      const memory = (await target.describe('fz-fn'))?.memoryMb
      return {pass: code === 130 && memory === 512, observed: `exit ${code}, memory afterwards ${memory} MB`}
    },
  },
  {
    name: 'local service SIGKILLed mid-invocation',
    expected:
      "the caller's error names the local service; its containers go; the next command starts a fresh service " +
      'that works',
    run: async () => {
      await faas(['deploy', 'fz'])
      const before = await health()
      if (!before) return {pass: false, observed: 'setup: no service'}
      await waitFor('the service to be idle', async () => !(await busy()), {intervalMs: 200})
      const r = start(['invoke', '--function_name', 'fz-fn', '--payload', '{"sleep": 20}'])
      await waitFor('the invocation to be running', busy, {intervalMs: 100})
      process.kill(before.pid, 'SIGKILL')
      const code = await r.exited
      const message = errorLine(r.err())
      const next = await faas(['deploy', 'fz'])
      const again = await faas(['invoke', '--function_name', 'fz-fn', '--payload', '{}'])
      const after = await health()
      const left = await serviceContainers(before.id)
      const names = /local (Lambda )?service/i.test(message) && !/Cannot reach AWS/i.test(message)
      return {
        pass:
          code !== 0 &&
          names &&
          !hasStack(r.err()) &&
          next.code === 0 &&
          again.code === 0 &&
          after?.pid !== before.pid &&
          left.length === 0,
        observed:
          `exit ${code}, "${message.slice(0, 100)}"; next deploy+invoke exit ${next.code}/${again.code}, ` +
          `new pid ${after?.pid !== before.pid}, ${left.length} old containers left`,
      }
    },
  },
  {
    name: 'Docker engine gone mid-build',
    expected: 'an error naming the Docker engine, no stack; the rerun with the engine back builds',
    run: async () => {
      bump()
      const socket = join(mkdtempSync(join(tmpdir(), 'faas-faults-sock-')), 'docker.sock')
      let proxy: Proxy | undefined = await startProxy({path: '/var/run/docker.sock'}, {listenPath: socket})
      const env = {DOCKER_HOST: `unix://${socket}`}
      const r = start(['build', 'fzb', '--verbose'], env)
      await waitOutput(r, /slow-step-begins/, 'the slow build step')
      await proxy.close()
      const code = await r.exited
      proxy = await startProxy({path: '/var/run/docker.sock'}, {listenPath: socket})
      const again = await faas(['build', 'fzb'], env)
      await proxy.close()
      const message = errorLine(r.err())
      return {
        pass: code !== 0 && /Docker|engine/i.test(message) && !hasStack(r.err()) && again.code === 0,
        observed: `exit ${code}, "${message.slice(0, 110)}"; rerun exit ${again.code}`,
      }
    },
  },
  {
    name: 'registry answers 503 to uploads',
    expected: 'an error naming the registry; the rerun against the healthy registry pushes',
    run: async () => {
      const t = tag('push503')
      await faas(['build', 'fz', '--tag', t])
      const bad = await failingRegistry()
      try {
        const r = await faas(['push', 'fz', '--registry', bad.address, '--tag', t])
        const again = await faas(['push', 'fz', '--registry', REGISTRY, '--tag', t])
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && message.includes(bad.address) && !hasStack(r.err) && again.code === 0,
          observed: `exit ${r.code}, "${message.slice(0, 110)}"; rerun exit ${again.code}`,
        }
      } finally {
        await bad.close()
      }
    },
  },
  {
    name: 'registry resets the connection mid-push',
    expected: 'an error naming the registry; the rerun pushes',
    run: async () => {
      const t = tag('pushreset')
      await faas(['build', 'fz', '--tag', t])
      const [host, port] = REGISTRY.split(':')
      let armed = true
      // Reset the first upload (a blob PATCH/PUT or the manifest PUT) as it starts.
      const proxy = await startProxy(
        {host, port: Number(port)},
        {
          onData: (_, chunk) =>
            armed && /^(PATCH|PUT) /.test(chunk.subarray(0, 8).toString('latin1')) ? 'reset' : 'pass',
        },
      )
      try {
        const r = await faas(['push', 'fz', '--registry', proxy.address, '--tag', t])
        armed = false
        const again = await faas(['push', 'fz', '--registry', proxy.address, '--tag', t])
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && message.includes(proxy.address) && !hasStack(r.err) && again.code === 0,
          observed: `exit ${r.code}, "${message.slice(0, 110)}"; rerun exit ${again.code}`,
        }
      } finally {
        await proxy.close()
      }
    },
  },
  {
    name: 'AWS throttling on every call',
    expected: 'each command fails with one clear paragraph, bounded retries, no stack',
    run: () => awsFault('throttle'),
  },
  {
    name: 'AWS 5xx on every call',
    expected: 'each command fails with one clear paragraph, no stack',
    run: () => awsFault('5xx'),
  },
  {
    name: 'AWS connection reset on every call',
    expected: 'each command fails with one clear paragraph, no stack',
    run: () => awsFault('reset'),
  },
  {
    name: 'local S3 store gone mid-run',
    expected: 'the run fails naming the S3 store; the rerun starts a new store and completes',
    run: async () => {
      const args = [
        'run',
        'map-reduce',
        '--input-mb',
        '2',
        '--shards',
        '8',
        '--seed',
        String(7000 + (process.pid % 1000)),
      ]
      const r = start(args)
      await waitOutput(r, /Invok/, 'the invoke phase')
      await docker('rm', '-f', `faas-local-s3-${S3_PORT}`)
      const code = await r.exited
      const again = await faas([...args, '--json'])
      let correct = false
      try {
        correct = JSON.parse(again.out).correct === true
      } catch {}
      const message = errorLine(r.err())
      return {
        pass: code !== 0 && /S3/i.test(message) && !hasStack(r.err()) && again.code === 0 && correct,
        observed: `exit ${code}, "${message.slice(0, 110)}"; rerun exit ${again.code}, correct ${correct}`,
      }
    },
  },
  {
    name: 'two faas run at once',
    expected:
      "both complete with correct answers; the state file is valid JSON; neither removed the other's containers",
    run: async () => {
      const args = (seed: number) => [
        'run',
        'map-reduce',
        '--input-mb',
        '2',
        '--shards',
        '8',
        '--seed',
        String(seed),
        '--json',
      ]
      // Cold: both race to start the S3 store and the service.
      await faas(['local', 'stop'])
      const [a, b] = await Promise.all([faas(args(11)), faas(args(12))])
      const ok = (r: typeof a) => {
        try {
          return JSON.parse(r.out).correct === true
        } catch {
          return false
        }
      }
      let state = 'valid'
      try {
        JSON.parse(readFileSync(join(home, 'local', 'service.json'), 'utf8'))
      } catch (error) {
        state = `invalid (${(error as Error).message})`
      }
      return {
        pass: a.code === 0 && b.code === 0 && ok(a) && ok(b) && state === 'valid',
        observed:
          `exits ${a.code}/${b.code}, correct ${ok(a)}/${ok(b)}, state ` +
          `file ${state}${a.code ? `; ${errorLine(a.err)}` : ''}${b.code ? `; ${errorLine(b.err)}` : ''}`,
      }
    },
  },
  {
    name: 'two deploys of a new function racing',
    expected: 'both succeed: one creates, the other converges (updated/unchanged), no "update in progress" error',
    run: async () => {
      await faas(['local', 'start', '--detach'])
      await faas(['destroy', 'fz', '--yes'])
      const [a, b] = await Promise.all([faas(['deploy', 'fz', '--json']), faas(['deploy', 'fz', '--json'])])
      const action = (r: typeof a) => {
        try {
          return JSON.parse(r.out).functions[0].action as string
        } catch {
          return `none (${errorLine(r.err)})`
        }
      }
      const actions = [action(a), action(b)].sort()
      return {
        pass: a.code === 0 && b.code === 0 && actions[0] === 'created',
        observed: `exits ${a.code}/${b.code}, actions ${actions.join('/')}`,
      }
    },
  },
  {
    name: 'a service already running without the S3 store',
    expected: 'faas run restarts it with the local store (never real S3) and the answer is correct',
    run: async () => {
      await faas(['local', 'stop'])
      const started = await faas(['local', 'start', '--detach'])
      const before = await health()
      const r = await faas(['run', 'map-reduce', '--input-mb', '1', '--shards', '4', '--seed', '31', '--json'])
      const after = await health()
      let correct = false
      try {
        correct = JSON.parse(r.out).correct === true
      } catch {}
      const local = after?.s3Endpoint === `http://127.0.0.1:${S3_PORT}`
      return {
        pass: started.code === 0 && before?.s3Endpoint === undefined && r.code === 0 && correct && local,
        observed:
          `before: s3 ${before?.s3Endpoint ?? 'none'}; run exit ${r.code}, correct ${correct}; after: ` +
          `s3 ${after?.s3Endpoint}${/restarting/.test(r.err) ? ' (said it restarted)' : ''}`,
      }
    },
  },
  {
    name: 'two faas local start at once',
    expected:
      'one service; both commands succeed (the second finds the first) or one says the port is taken; state file valid',
    run: async () => {
      await faas(['local', 'stop'])
      const [a, b] = await Promise.all([
        faas(['local', 'start', '--detach', '--json']),
        faas(['local', 'start', '--detach', '--json']),
      ])
      const pids = [a, b].map((r) => {
        try {
          return JSON.parse(r.out).pid
        } catch {
          return undefined
        }
      })
      const running = await health()
      let state = 'valid'
      try {
        JSON.parse(readFileSync(join(home, 'local', 'service.json'), 'utf8'))
      } catch (error) {
        state = `invalid (${(error as Error).message})`
      }
      const clear = (r: typeof a) => r.code === 0 || (/port|already/i.test(r.err) && !hasStack(r.err))
      return {
        pass:
          clear(a) &&
          clear(b) &&
          (a.code === 0 || b.code === 0) &&
          Boolean(running) &&
          state === 'valid' &&
          pids.filter(Boolean).every((p) => p === running?.pid),
        observed:
          `exits ${a.code}/${b.code}, pids ${pids.join('/')}, running ${running?.pid}, ` +
          `state ${state}${a.code ? `; ${errorLine(a.err)}` : ''}${b.code ? `; ${errorLine(b.err)}` : ''}`,
      }
    },
  },
  {
    name: 'disk full writing the run record',
    expected: 'one paragraph saying no space is left and naming the file; no partial record',
    run: async () => {
      const mount = tinyMount({fill: true})
      try {
        const record = join(mount.dir, 'runs', 'run.json')
        const r = await faas(['run', 'fz', '--record', record])
        const leftovers = existsSync(join(mount.dir, 'runs')) ? readdirSync(join(mount.dir, 'runs')) : []
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && /No space left/.test(message) && !hasStack(r.err) && leftovers.length === 0,
          observed: `exit ${r.code}, "${message.slice(0, 120)}", ${leftovers.length} files left`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'disk full writing bench records',
    expected: 'one paragraph saying no space is left, no stack',
    run: async () => {
      const mount = tinyMount({fill: true})
      try {
        const r = await faas(['bench', '-f', 'fz-fn', '--rps', '2', '--time', '1', '--out', join(mount.dir, 'bench')])
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && /No space left/.test(message) && !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 120)}"`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'disk full in FAAS_HOME during login',
    expected: 'one paragraph saying no space is left; the saved logins are intact',
    run: async () => {
      const mount = tinyMount()
      try {
        const file = join(mount.dir, 'registries.json')
        writeFileSync(
          file,
          JSON.stringify({'example.test:5000': {registry: 'example.test:5000', username: 'u', password: 'p'}}),
        )
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${join(mount.dir, 'filler')}`, 'bs=4k'], {stdio: 'ignore'})
        } catch {}
        const [user, password] = readFileSync(
          process.env.FAAS_TEST_AUTH_FILE ?? '/var/lib/faas-stack/auth-registry.credentials',
          'utf8',
        )
          .trim()
          .split('\n')
        const r = await faas(
          [
            'login',
            '--registry',
            process.env.FAAS_TEST_AUTH_REGISTRY ?? '127.0.0.1:5001',
            '--username',
            user!,
            '--password-stdin',
          ],
          {FAAS_HOME: mount.dir},
          password,
        )
        const intact = Object.keys(JSON.parse(readFileSync(file, 'utf8'))).join(',') === 'example.test:5000'
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && /No space left/.test(message) && intact && !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 110)}", logins intact ${intact}`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'FAAS_HOME not writable',
    expected: 'one paragraph naming the folder and the fix (EROFS/EACCES), no stack',
    run: async () => {
      const mount = tinyMount({readOnly: true})
      try {
        const r = await faas(['local', 'start', '--detach'], {
          FAAS_HOME: mount.dir,
          FAAS_LOCAL_PORT: String(Number(SERVICE_PORT) + 10),
        })
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && message.includes(mount.dir) && /writable/.test(message) && !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 120)}"`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'service port already in use',
    expected: 'one paragraph saying something else answers on the port and how to choose another',
    run: async () => {
      const squatter = await fakeServer((_, res) => res.writeHead(404).end('not faas'))
      try {
        const port = new URL(squatter.url).port
        const r = await faas(['local', 'start', '--detach'], {
          FAAS_LOCAL_PORT: port,
          FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-faults-home-')),
        })
        const message = errorLine(r.err)
        return {
          pass:
            r.code !== 0 &&
            message.includes(port) &&
            /in use|taken|another|cannot prove/i.test(message) &&
            !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 130)}"`,
        }
      } finally {
        await squatter.close()
      }
    },
  },
  {
    name: 'truncated registries.json',
    expected: 'reported by name, not wiped',
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faas-faults-home-'))
      writeFileSync(join(dir, 'registries.json'), '{"a": {"registry": "a", "user')
      const r = await faas(
        ['login', '--registry', REGISTRY, '--username', 'u', '--password-stdin'],
        {FAAS_HOME: dir},
        'p',
      )
      const intact = readFileSync(join(dir, 'registries.json'), 'utf8') === '{"a": {"registry": "a", "user'
      const message = errorLine(r.err)
      return {
        pass: r.code !== 0 && /registries\.json.*not valid JSON/.test(message) && intact,
        observed: `exit ${r.code}, "${message.slice(0, 110)}", file intact ${intact}`,
      }
    },
  },
  {
    name: 'truncated local service state file',
    expected: 'reported by name with the fix, not silently replaced',
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faas-faults-home-'))
      mkdirSync(join(dir, 'local'))
      writeFileSync(join(dir, 'local', 'service.json'), '{"pid": 12')
      const r = await faas(['local', 'status'], {FAAS_HOME: dir, FAAS_LOCAL_PORT: String(Number(SERVICE_PORT) + 11)})
      const message = errorLine(r.err)
      return {
        pass: r.code !== 0 && /service\.json.*not valid JSON.*rm /s.test(r.err),
        observed: `exit ${r.code}, "${message.slice(0, 110)}"`,
      }
    },
  },
]

// ---------------------------------------------------------------- runner

const filter = process.argv[2]
const selected = scenarios.filter(
  (s) => !filter || filter.split(',').some((f) => s.name.toLowerCase().includes(f.toLowerCase())),
)
writeBenchmarks()
const rows: Array<Scenario & Outcome & {seconds: number}> = []
try {
  for (const scenario of selected) {
    const t0 = Date.now()
    process.stderr.write(`faults: ${scenario.name}…\n`)
    let outcome: Outcome
    try {
      outcome = await scenario.run()
    } catch (error) {
      outcome = {pass: false, observed: `scenario failed: ${oneLine((error as Error).message ?? String(error))}`}
    }
    rows.push({...scenario, ...outcome, seconds: Math.round((Date.now() - t0) / 1000)})
    process.stderr.write(`faults: ${outcome.pass ? 'pass' : 'FAIL'} ${scenario.name}: ${outcome.observed}\n`)
  }
} finally {
  await faas(['local', 'stop'])
  rmSync(benchmarks, {recursive: true, force: true})
}
console.log('| # | scenario | expected | observed | pass |')
console.log('|---|---|---|---|---|')
rows.forEach((r, i) =>
  console.log(
    `| ${i + 1} | ${r.name} | ${r.expected} | ${r.observed.replaceAll('|', '/')} | ${r.pass ? 'yes' : 'NO'} |`,
  ),
)
const passed = rows.filter((r) => r.pass).length
console.log(`\nfaults: ${passed} of ${rows.length} scenarios pass`)
process.exit(passed === rows.length ? 0 : 1)
