import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

import {UserError, messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {silent} from '../core/events.js'
import {ensurePrivateDirSync, openRotatedLog, readJsonFileSync, withFileLock, writeJsonFileSync} from '../core/files.js'
import type {Settings} from '../core/settings.js'
import {pollUntil} from '../core/wait.js'
import {functionsFile, stateDir, stateFile} from './contracts.js'
import {loadOrCreateSecrets} from './credentials.js'
import {checkServiceOptions, defined, serviceDefaults} from './options.js'
import type {LocalService} from './service.js'
import {health, loadSigner, serviceFetch} from './service-client.js'
import type {ApiStatus, FunctionUrlStatus, HealthAnswer} from './service-client.js'
import type {ServiceOptions} from './types.js'

/**
 * The local service as a process: in the foreground (`faas local start`), detached in the
 * background (`--detach`, or on demand through ensureLocalService), its state file, status and stop.
 */

export const DEFAULT_PORT = 9001

export interface StartOptions {
  port?: number
  /** AWS_ENDPOINT_URL_S3 for the functions (FAAS_LOCAL_S3_ENDPOINT). */
  s3Endpoint?: string
  idleTimeoutS?: number
  maxEnvironments?: number
  /** Most synchronous calls waiting per function, and how long each may wait (s), before a 429. */
  maxQueue?: number
  queueTimeoutS?: number
  /** Sandboxes prepared ahead per function and in all (0 per function, or `prepare: false`: none). */
  prepared?: number
  preparedTotal?: number
  prepare?: boolean
  /** The AWS emulator that async destinations (SQS, EventBridge) live in (FAAS_LOCAL_AWS_ENDPOINT). */
  awsEndpoint?: string
  /** Delays before an Event invocation's retries, in seconds (`1,2`; Lambda's about 60,120). */
  asyncRetryDelays?: string
  /** Exchange the user's AWS credentials for an STS session that functions get from the credentials endpoint. */
  passCredentials?: boolean
  /** The user's credentials as handed to a detached service (through its stdin, never argv or environment). */
  credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
}

export interface ServiceState {
  pid: number
  port: number
  url: string
  id: string
  startedAt: string
  logFile?: string
  s3Endpoint?: string
}

// Where the state lives is a contract (contracts.ts); the client half (identity, signed calls, health) is in
// service-client.ts. Both stay importable from here, where the rest of faas looks for the service.
export {functionsFile, stateDir} from './contracts.js'
export {health, identify, notOurs, serviceFetch, type HealthAnswer} from './service-client.js'

/** `1,2` (seconds) as the retry delays in ms. */
function retryDelaysMs(text: string | undefined): number[] | undefined {
  if (text === undefined || text === '') return undefined
  const parts = text.split(',').map((part) => part.trim())
  const delays = parts.map(Number)
  if (parts.length > 2 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p)) || delays.some((d) => d > 3600))
    throw new UserError(`--async-retry-delays "${text}" is not one or two delays in seconds.`, {
      code: 'BAD_LOCAL_SETTING',
      fix: 'Give the delays before the first and second retry in seconds (0 to 3600), e.g. --async-retry-delays 1,2.',
    })
  return delays.map((d) => d * 1000)
}

/** A number from the environment, or a UserError naming the variable. */
function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name]
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isFinite(value))
    throw new UserError(`${name}="${text}" is not a number.`, {
      code: 'BAD_LOCAL_SETTING',
      fix: `Set ${name} to a number of seconds, or unset it for the default.`,
    })
  return value
}

/** A count from the environment, or a UserError naming the variable. */
function envCount(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name]
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0)
    throw new UserError(`${name}="${text}" is not a whole number.`, {
      code: 'BAD_LOCAL_SETTING',
      fix: `Set ${name} to a whole number (0 for none), or unset it for the default.`,
    })
  return value
}

export function portOf(options: StartOptions, env: NodeJS.ProcessEnv = process.env): number {
  const port = options.port ?? (env.FAAS_LOCAL_PORT ? Number(env.FAAS_LOCAL_PORT) : DEFAULT_PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserError(`The local service port "${env.FAAS_LOCAL_PORT ?? options.port}" is not a port number.`, {
      code: 'BAD_PORT',
      fix: 'Use --port or FAAS_LOCAL_PORT with a number from 1 to 65535 (default 9001).',
    })
  }
  return port
}

/** Service options from flags, settings and the environment. */
export function serviceOptions(
  settings: Settings,
  options: StartOptions,
  env: NodeJS.ProcessEnv = process.env,
): Partial<ServiceOptions> {
  const passed = options.passCredentials
    ? (options.credentials ??
      settings.credentials ??
      (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            sessionToken: env.AWS_SESSION_TOKEN,
          }
        : undefined))
    : undefined
  if (options.passCredentials && !passed) {
    throw new UserError('--pass-credentials was given but no AWS credentials are set in the environment.', {
      code: 'NO_CREDENTIALS',
      fix:
        'Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or leave out --pass-credentials (functions then get ' +
        'session credentials that can only invoke local functions).',
    })
  }
  const seconds = (s: number | undefined) => (s === undefined ? undefined : s * 1000)
  const partial: Partial<ServiceOptions> = {
    port: portOf(options, env),
    region: settings.region ?? 'us-east-1',
    accountId: settings.accountId ?? '000000000000',
    s3Endpoint: options.s3Endpoint ?? env.FAAS_LOCAL_S3_ENDPOINT,
    awsEndpoint: options.awsEndpoint ?? env.FAAS_LOCAL_AWS_ENDPOINT,
    asyncRetryDelaysMs: retryDelaysMs(options.asyncRetryDelays ?? env.FAAS_LOCAL_ASYNC_RETRY_DELAYS),
    idleTimeoutMs: seconds(options.idleTimeoutS),
    maxEnvironmentsPerFunction: options.maxEnvironments,
    maxQueuedPerFunction: options.maxQueue,
    queueTimeoutMs: seconds(options.queueTimeoutS),
    // Also settings, so a service that `faas deploy` or `faas run` starts can be made without them.
    preparedPerFunction: options.prepare === false ? 0 : (options.prepared ?? envCount(env, 'FAAS_LOCAL_PREPARED')),
    preparedTotal: options.preparedTotal ?? envCount(env, 'FAAS_LOCAL_PREPARED_TOTAL'),
    initTimeoutMs: seconds(envNumber(env, 'FAAS_LOCAL_INIT_TIMEOUT')),
    maxEventAgeMs: seconds(envNumber(env, 'FAAS_LOCAL_MAX_EVENT_AGE')),
    emulationCpuFactor: envNumber(env, 'FAAS_LOCAL_EMULATION_CPU_FACTOR'),
    accountConcurrency: envNumber(env, 'FAAS_LOCAL_ACCOUNT_CONCURRENCY'),
    functionsFile: functionsFile(env),
    credentials: passed,
  }
  // Refuses nonsense (0 environments, a negative idle timeout…) with a UserError.
  checkServiceOptions({...serviceDefaults(), ...defined(partial)})
  return partial
}

/** The running service's state file; a corrupt one is reported, not ignored. */
export function readState(env: NodeJS.ProcessEnv = process.env): ServiceState | undefined {
  return readJsonFileSync<ServiceState>(stateFile(env), {
    what: "the local Lambda service's state",
    fix:
      `Remove it (rm ${stateFile(env)}); faas finds a running service by its port and writes the file again on ` +
      `the next start.`,
  })
}

/**
 * Runs the service in this process until SIGINT/SIGTERM (or POST /faas/shutdown), then removes
 * every container it started. Records the state file so `faas local status/stop` find it.
 */
export async function runService(
  settings: Settings,
  options: StartOptions,
  emit: Emit,
  onReady?: (service: LocalService) => void,
): Promise<void> {
  // The service (and with it dockerode) is loaded only where it runs, not for status or stop.
  const [{LocalService}, {DockerEngine}] = await Promise.all([import('./service.js'), import('../docker/engine.js')])
  const service = await new LocalService(
    new DockerEngine(),
    {...serviceOptions(settings, options), secrets: loadOrCreateSecrets()},
    emit,
  ).start()
  const state: ServiceState = {
    pid: process.pid,
    port: service.options.port,
    url: service.url,
    id: service.options.instanceId,
    startedAt: new Date().toISOString(),
    s3Endpoint: service.options.s3Endpoint,
    logFile: process.env.FAAS_LOCAL_LOG_FILE,
  }
  writeJsonFileSync(stateFile(), state)
  emit({
    kind: 'done',
    subject: 'local',
    message: `Local Lambda service on ${service.url} (Ctrl-C stops it and removes its containers)`,
  })
  onReady?.(service)
  const stop = () => void service.close()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  // Resolves once close() ran, whoever asked for it (a signal or POST /faas/shutdown).
  await service.closed
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  if (readState()?.pid === process.pid) rmSync(stateFile(), {force: true})
  emit({kind: 'done', subject: 'local', message: 'Stopped the local Lambda service and removed its containers'})
}

/** The service's entry point for a detached process, relative to this module (dist/*.js or src/*.ts through tsx). */
function entry(): {file: string; execArgv: string[]} {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) return {file: join(here, '..', 'main.ts'), execArgv: ['--import', 'tsx']}
  return {file: join(here, '..', 'main.js'), execArgv: []}
}

/** The variable naming the fd a detached service writes a line to once it listens (see spawnDetached). */
export const READY_FD = 'FAAS_LOCAL_READY_FD'

/** Starts the service in the background and returns once it answers. */
export async function startDetached(
  settings: Settings,
  options: StartOptions,
  emit: Emit = silent,
): Promise<ServiceState> {
  const port = portOf(options)
  const url = `http://127.0.0.1:${port}`
  const running = await health(url)
  if (running) return {pid: running.pid, port, url, id: running.id, startedAt: '', s3Endpoint: running.s3Endpoint}
  // Two faas commands starting the service at once: the second waits, then finds the first's.
  return withFileLock(join(stateDir(), 'start'), () => spawnDetached(settings, options, emit))
}

async function spawnDetached(settings: Settings, options: StartOptions, emit: Emit): Promise<ServiceState> {
  const port = portOf(options)
  const url = `http://127.0.0.1:${port}`
  const running = await health(url)
  if (running) return {pid: running.pid, port, url, id: running.id, startedAt: '', s3Endpoint: running.s3Endpoint}
  ensurePrivateDirSync(stateDir())
  loadOrCreateSecrets() // made here, so the first answer can already be checked against them
  const logFile = join(stateDir(), 'service.log')
  const out = openRotatedLog(logFile)
  const {file, execArgv} = entry()
  const args = [...execArgv, file, '--port', String(port)]
  if (options.s3Endpoint) args.push('--s3-endpoint', options.s3Endpoint)
  if (options.idleTimeoutS !== undefined) args.push('--idle-timeout', String(options.idleTimeoutS))
  if (options.maxEnvironments !== undefined) args.push('--max-environments', String(options.maxEnvironments))
  if (options.maxQueue !== undefined) args.push('--max-queue', String(options.maxQueue))
  if (options.queueTimeoutS !== undefined) args.push('--queue-timeout', String(options.queueTimeoutS))
  if (options.prepared !== undefined) args.push('--prepared', String(options.prepared))
  if (options.preparedTotal !== undefined) args.push('--prepared-total', String(options.preparedTotal))
  if (options.prepare === false) args.push('--no-prepare')
  if (options.awsEndpoint) args.push('--aws-endpoint', options.awsEndpoint)
  if (options.asyncRetryDelays) args.push('--async-retry-delays', options.asyncRetryDelays)
  if (options.passCredentials) args.push('--pass-credentials')
  emit({kind: 'start', subject: 'local', message: `Starting the local Lambda service on ${url}…`})
  // The user's keys stay out of the service's environment (ps e, /proc/<pid>/environ): passed on stdin when asked for.
  const env: NodeJS.ProcessEnv = {...process.env, FAAS_LOCAL_LOG_FILE: logFile, [READY_FD]: '3'}
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_ACCESS_KEY',
    'AWS_SECRET_KEY',
  ])
    delete env[name]
  const passed = serviceOptions(settings, options).credentials
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: [passed ? 'pipe' : 'ignore', out, out, 'pipe'],
    env,
  })
  if (passed) child.stdin!.end(JSON.stringify(passed))
  let exited: string | undefined
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`))
  child.unref()
  void loadSigner().catch(() => {}) // for the health call below: loaded while the service starts
  // The service says when it listens (a line on fd 3, closed when it exits), so starting waits for that rather than
  // for the next poll; the polls below then find it at once (or name what else holds the port).
  const ready = child.stdio[3]!
  await Promise.race([once(ready, 'data'), once(ready, 'close'), delay(30_000, undefined, {ref: false})]).catch(
    () => {},
  )
  ready.destroy()
  let answer: HealthAnswer | undefined
  let squatter: UserError | undefined
  const up = await pollUntil(
    async () => {
      try {
        return Boolean((answer = await health(url, 500)))
      } catch (error) {
        // Something else answers on the port: the child will fail to bind; say who holds it.
        squatter = error as UserError
        return false
      }
    },
    // Polled often: the service answers within about a second, and every poll skipped is time the user waits.
    {timeoutMs: 30_000, maxDelayMs: 50, giveUp: () => Boolean(exited)},
  )
  if (!up && squatter) throw squatter
  if (!up || !answer) {
    let tail = ''
    try {
      tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' / ').replace(/\.$/, '')
    } catch {}
    throw new UserError(
      `The local Lambda service did not start (${exited ?? 'no answer in 30 s'})${tail ? `: ${tail}` : ''}.`,
      {
        code: 'LOCAL_START_FAILED',
        fix: `See ${logFile}; check the Docker engine (bash scripts/stack.sh services) and that port ${port} is free.`,
      },
    )
  }
  emit({kind: 'done', subject: 'local', message: `Local Lambda service on ${url} (pid ${answer.pid})`})
  return {
    pid: answer.pid,
    port,
    url,
    id: answer.id,
    startedAt: new Date().toISOString(),
    logFile,
    s3Endpoint: answer.s3Endpoint,
  }
}

/** The local service's endpoint, starting a detached service when none answers. */
export async function ensureLocalService(
  settings: Settings,
  options: StartOptions = {},
  emit: Emit = silent,
): Promise<string> {
  const state = await startDetached(settings, options, emit)
  if (!options.s3Endpoint || state.s3Endpoint === options.s3Endpoint) return state.url
  // A service started without the local S3 store would point functions at real S3 (or another store):
  // restart it with the right one when nothing runs on it, else refuse rather than use the wrong buckets.
  return withFileLock(join(stateDir(), 'start'), async () => {
    const now = await health(state.url)
    if (now?.s3Endpoint === options.s3Endpoint) return state.url
    const gives = now?.s3Endpoint
      ? `S3 at ${now.s3Endpoint}`
      : 'real AWS S3 (it was started without FAAS_LOCAL_S3_ENDPOINT)'
    const busy = Object.values<{busy?: number; queued?: number}>(now?.environments ?? {}).reduce(
      (n, e) => n + (e.busy ?? 0) + (e.queued ?? 0),
      0,
    )
    if (busy > 0) {
      throw new UserError(
        `The local Lambda service on ${state.url} gives functions ${gives}, not the local store ` +
          `at ${options.s3Endpoint}, and it is running ${busy} invocation(s), so faas will not restart it.`,
        {
          code: 'LOCAL_S3_MISMATCH',
          fix:
            `Wait for them, stop it (faas local stop) and run again; or start it yourself with ` +
            `FAAS_LOCAL_S3_ENDPOINT=${options.s3Endpoint}.`,
        },
      )
    }
    emit({
      kind: 'warn',
      subject: 'local',
      message:
        `the running service gives functions ${gives}; restarting it with the local S3 store ` +
        `at ${options.s3Endpoint}`,
    })
    await stopLocalService(options, emit)
    return (await spawnDetached(settings, options, emit)).url
  })
}

export interface StatusReport {
  running: boolean
  url: string
  pid?: number
  functions?: string[]
  urls?: FunctionUrlStatus[]
  apis?: ApiStatus[]
  environments?: Record<string, unknown>
  /** Prepared sandboxes: per function, in all, and how many exist now. */
  prepared?: {perFunction: number; total: number; held: number}
}

export async function localStatus(options: StartOptions = {}): Promise<StatusReport> {
  const url = readState()?.url ?? `http://127.0.0.1:${portOf(options)}`
  const answer = await health(url)
  if (!answer) return {running: false, url}
  const {pid, functions, environments, prepared} = answer
  return {running: true, url, pid, functions, urls: answer.urls ?? [], apis: answer.apis ?? [], environments, prepared}
}

/** Asks the service to stop (it removes its containers) and waits until it no longer answers. */
export async function stopLocalService(
  options: StartOptions = {},
  emit: Emit = silent,
): Promise<{stopped: boolean; url: string}> {
  const url = readState()?.url ?? `http://127.0.0.1:${portOf(options)}`
  const answer = await health(url)
  if (!answer) {
    rmSync(stateFile(), {force: true})
    return {stopped: false, url}
  }
  emit({kind: 'start', subject: 'local', message: `Stopping the local Lambda service on ${url}…`})
  try {
    await serviceFetch(url, '/faas/shutdown', {method: 'POST'})
  } catch (error) {
    if (error instanceof UserError) throw error
    throw new UserError(`Could not ask the local service on ${url} to stop: ${messageOf(error)}.`, {
      code: 'LOCAL_STOP_FAILED',
      fix: `Stop process ${answer.pid} yourself (kill ${answer.pid}); the next start removes its containers.`,
    })
  }
  if (!(await pollUntil(async () => !(await health(url, 500)), {timeoutMs: 60_000}))) {
    throw new UserError(`The local service on ${url} did not stop within 60 s.`, {
      code: 'LOCAL_STOP_FAILED',
      fix: `kill ${answer.pid}; the next start removes its containers.`,
    })
  }
  emit({kind: 'done', subject: 'local', message: 'Stopped the local Lambda service'})
  return {stopped: true, url}
}

/** The recent log lines of one function on the running service. */
export async function functionLogs(name: string, options: StartOptions = {}): Promise<string[]> {
  const url = readState()?.url ?? `http://127.0.0.1:${portOf(options)}`
  if (!(await health(url))) {
    throw new UserError(`No local Lambda service answers on ${url}.`, {
      code: 'LOCAL_NOT_RUNNING',
      fix: 'Start it (faas local start --detach) and deploy with --target local.',
    })
  }
  const res = await serviceFetch(url, `/faas/functions/${encodeURIComponent(name)}/logs`)
  return ((await res!.json()) as {lines: string[]}).lines
}
