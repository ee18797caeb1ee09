import type Docker from 'dockerode'
import {setTimeout as delay} from 'node:timers/promises'
import {PassThrough, type Duplex} from 'node:stream'

import {UserError, isUserError, messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import type {BenchmarkManifest} from '../core/manifest.js'
import {imageRef} from '../core/names.js'
import {projectPath} from '../core/paths.js'
import type {Platform} from '../core/platform.js'
import type {DockerEngine} from '../docker/engine.js'
import {baseImageRef, buildBaseImages} from '../images/base.js'

/**
 * A benchmark's checker (docs/benchmarks.md): a program in its folder, built for the host from its check Dockerfile
 * and run with no network and no credentials, speaking JSON lines on stdin/stdout. faas performs what it asks for
 * (invoke the entry, put and get objects of the run's bucket) through the target, so it checks alike everywhere.
 */

/** Where faas's side of the protocol (docker/check/faas_check.py) sits in every checker's build context. */
export const CHECK_LIB_CONTEXT = '.faas/check'

/** Error codes a checker's refusal may carry (a run flag out of range, or parameters that do not fit). */
const REFUSAL_CODES = new Set(['BAD_FLAG', 'BAD_RUN_PARAMS'])

const hostPlatform = (): Platform => (process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64')

/** The faas → checker answers to the requests it may make during a run. */
export interface CheckerHandlers {
  /** Calls the entry function; a function error ends the run (thrown). */
  invoke: (payload: unknown) => Promise<{payload: string} & Record<string, unknown>>
  /** Stores objects (skipping those already held), returning the bytes sent. */
  put: (objects: Array<{key: string; body: Buffer; contentType: string}>) => Promise<number>
  get: (key: string) => Promise<Uint8Array>
  exists: (key: string) => Promise<boolean>
  /** Writes plain JSON items to one of the benchmark's declared tables (seeding its state). */
  tablePut: (table: string, items: object[]) => Promise<number>
  /** Every item of one of the benchmark's declared tables, to check the state the run left. */
  tableScan: (table: string) => Promise<Record<string, unknown>[]>
  /** Sends an HTTP request to the benchmark's API (its "api" routes where they are deployed). */
  http: (request: HttpRequest) => Promise<{statusCode: number; body: string} & Record<string, unknown>>
}

/** A request of a checker's http_many: a path under the API's stage URL. */
export interface HttpRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
}

/** How many calls an invoke_many request may have in flight at most (a checker asks for fewer). */
export const MAX_IN_FLIGHT = 256

/** What a checker reports at the end of a run (the record's fields, checked loosely: it is the folder's code). */
export interface CheckerResult {
  correct: boolean
  differences: string[]
  verified?: string
  /** The wrong-answer message's words for what is wrong ("the word counts are wrong"); "its answer is wrong". */
  wrong?: string
  output?: unknown
  config?: Record<string, unknown>
  words?: {total: number; distinct: number}
  bytes?: Record<string, number>
  phasesMs?: Record<string, number>
  /** Calls the benchmark's functions made among themselves, in the run record's vocabulary. */
  invocations?: Array<Record<string, unknown>>
}

/** Builds the checker image for the host, on the same base as the functions (cached by the engine as they are). */
export async function buildChecker(
  engine: DockerEngine,
  manifest: BenchmarkManifest & {check: {dockerfile: string}},
  options: {tag: string; baseImage?: string},
  emit: Emit,
): Promise<string> {
  const platform = hostPlatform()
  let baseImage = options.baseImage
  if (baseImage === 'local') {
    baseImage = baseImageRef(platform)
    await buildBaseImages(engine, {platforms: [platform]}, emit)
  }
  const subject = `${manifest.name}/check`
  emit({kind: 'start', subject, message: `Building ${subject} for ${platform}…`})
  const image = imageRef(undefined, `faas-check/${manifest.name}`, options.tag)
  const built = await engine.build(
    {
      contextDir: manifest.dir,
      extraDirs: {[CHECK_LIB_CONTEXT]: projectPath('docker', 'check')},
      dockerfile: manifest.check.dockerfile,
      tags: [image],
      platform,
      buildArgs: baseImage ? {BASE_IMAGE: baseImage} : {},
      labels: {'dev.faas.checker': manifest.name},
    },
    subject,
    emit,
  )
  emit({kind: 'done', subject, message: `Built ${subject}`})
  return built.imageId
}

/** A running checker: one container, its stdin and demultiplexed stdout lines. */
export class Checker {
  readonly #container: Docker.Container
  readonly #stdin: Duplex
  readonly #lines: string[] = []
  readonly #stderr: string[] = []
  #waiting?: () => void
  #ended = false

  private constructor(container: Docker.Container, stream: Duplex, subject: string, emit: Emit) {
    this.#container = container
    this.#stdin = stream
    const out = new PassThrough()
    const err = new PassThrough()
    container.modem.demuxStream(stream, out, err)
    onLines(out, (line) => {
      this.#lines.push(line)
      this.#wake()
    })
    onLines(err, (line) => {
      this.#stderr.push(line)
      if (this.#stderr.length > 20) this.#stderr.shift()
      emit({kind: 'log', subject, message: line})
    })
    // The checker's output ends with its stream: lines still in the pipe are read before the end is seen.
    const end = () => {
      out.end()
      err.end()
    }
    stream.on('end', end)
    stream.on('close', end)
    stream.on('error', end)
    out.on('end', () => {
      this.#ended = true
      this.#wake()
    })
  }

  /** Starts the checker image with no network, no capabilities and a read-only root, attached to its stdin. */
  static async start(engine: DockerEngine, image: string, subject: string, emit: Emit): Promise<Checker> {
    const container = await engine.docker.createContainer({
      Image: image,
      OpenStdin: true,
      StdinOnce: false,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Labels: {'dev.faas.checker': subject},
      HostConfig: {
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Tmpfs: {'/tmp': 'rw,size=512m'},
        Memory: 4 * 1024 ** 3,
      },
    })
    try {
      const stream = (await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as unknown as Duplex
      const checker = new Checker(container, stream, subject, emit)
      await container.start()
      return checker
    } catch (error) {
      await container.remove({force: true}).catch(() => {})
      throw error
    }
  }

  #wake() {
    this.#waiting?.()
    this.#waiting = undefined
  }

  send(message: Record<string, unknown>): void {
    this.#stdin.write(`${JSON.stringify(message)}\n`)
  }

  /** The checker's next message; a UserError naming its last stderr lines when it ends without one. */
  async receive(): Promise<Record<string, unknown>> {
    while (this.#lines.length === 0) {
      if (this.#ended) throw this.#failed('it stopped without an answer')
      await new Promise<void>((resolve) => (this.#waiting = resolve))
    }
    const line = this.#lines.shift()!
    try {
      const message = JSON.parse(line) as unknown
      if (typeof message === 'object' && message !== null && typeof (message as {op?: unknown}).op === 'string')
        return message as Record<string, unknown>
    } catch {}
    throw this.#failed(`it wrote a line that is not a protocol message: ${line.slice(0, 200)}`)
  }

  #failed(problem: string): UserError {
    const tail = this.#stderr.length > 0 ? `\nLast lines of its stderr:\n  ${this.#stderr.join('\n  ')}\n` : ''
    return new UserError(`The benchmark's checker failed: ${problem}.${tail}`, {
      code: 'CHECKER_FAILED',
      fix: "Fix the checker (its folder's check/ program, see docs/benchmarks.md) and run again.",
    })
  }

  /** Sends the run's parameters; the checker's refusal becomes the UserError it words, before anything is built. */
  async validate(request: {payload: unknown; params: Record<string, unknown>; seed: number}) {
    this.send({op: 'validate', ...request})
    const answer = await this.receive()
    if (answer.op === 'refuse') {
      const code = REFUSAL_CODES.has(String(answer.code)) ? String(answer.code) : 'BAD_RUN_PARAMS'
      throw new UserError(String(answer.message), {code, fix: String(answer.fix ?? '')})
    }
    if (answer.op !== 'valid') throw this.#failed(`it answered "${answer.op}" to the validate request`)
    return (answer.params ?? request.params) as Record<string, unknown>
  }

  /** Runs the check: answers each request until the checker's result. */
  async run(start: Record<string, unknown>, handlers: CheckerHandlers): Promise<CheckerResult> {
    this.send({op: 'start', ...start})
    for (;;) {
      const request = await this.receive()
      if (request.op === 'result') return resultOf(request)
      let answer: Record<string, unknown>
      try {
        answer = await answerTo(request, handlers)
      } catch (error) {
        // The run's own failures (a function error) end it; a failed storage call is the checker's to report.
        if (isUserError(error) && error.code === 'FUNCTION_ERROR') throw error
        answer = {op: 'error', message: isUserError(error) ? error.message : messageOf(error)}
      }
      this.send(answer)
    }
  }

  async stop(): Promise<void> {
    this.#stdin.destroy()
    await this.#container.remove({force: true}).catch(() => {})
  }
}

async function answerTo(request: Record<string, unknown>, handlers: CheckerHandlers) {
  switch (request.op) {
    case 'invoke':
      return {op: 'outcome', ...(await handlers.invoke(request.payload))}
    case 'invoke_many':
      return {
        op: 'outcomes',
        outcomes: await paced(request, request.payloads, (p) => handlers.invoke(p).catch(throttled)),
      }
    case 'http_many':
      return {
        op: 'responses',
        responses: await paced(request, request.requests, (r) => handlers.http(r as HttpRequest)),
      }
    case 'table_put':
      return {op: 'table_put', written: await handlers.tablePut(String(request.table), request.items as object[])}
    case 'table_scan':
      return {op: 'table_items', items: await handlers.tableScan(String(request.table))}
    case 'put': {
      const objects = (request.objects as Array<{key: string; body_b64: string; content_type?: string}>).map((o) => ({
        key: o.key,
        body: Buffer.from(o.body_b64, 'base64'),
        contentType: o.content_type ?? 'application/octet-stream',
      }))
      return {op: 'put', uploaded: await handlers.put(objects)}
    }
    case 'get':
      return {op: 'got', body_b64: Buffer.from(await handlers.get(String(request.key))).toString('base64')}
    case 'exists':
      return {op: 'exists', exists: await handlers.exists(String(request.key))}
    default:
      throw new Error(
        `faas knows no request "${String(request.op)}" ` +
          '(invoke, invoke_many, http_many, put, get, exists, table_put, table_scan, result)',
      )
  }
}

/**
 * One call per item (an invoke_many's payloads, an http_many's requests), their outcomes in the items' order. Closed
 * loop by default (`concurrency` in flight, each starting as one ends); with `rps`, open loop: call i is due at i/rps
 * seconds, and starts then unless `concurrency` calls are already in flight (then as soon as one ends, late; its
 * lateness is in the outcome).
 */
async function paced<T>(
  request: Record<string, unknown>,
  given: unknown,
  call: (item: T) => Promise<Record<string, unknown>>,
): Promise<Array<Record<string, unknown>>> {
  const items = Array.isArray(given) ? (given as T[]) : []
  const concurrency = Math.max(1, Math.min(MAX_IN_FLIGHT, Math.floor(Number(request.concurrency) || 1)))
  const rps = Number(request.rps) > 0 ? Number(request.rps) : undefined
  const outcomes: Array<Record<string, unknown>> = new Array(items.length)
  const started = performance.now()
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      const dueMs = rps ? (i * 1000) / rps : 0
      const wait = started + dueMs - performance.now()
      if (wait > 0) await delay(wait)
      const latenessMs = rps ? Math.max(0, performance.now() - started - dueMs) : undefined
      outcomes[i] = {...(await call(items[i]!)), ...(rps ? {latenessMs} : {})}
    }
  }
  await Promise.all(Array.from({length: Math.min(concurrency, items.length)}, lane))
  return outcomes
}

/** A call Lambda throttled (after the SDK's retries) did not run: under load that is an outcome, not the run's end. */
function throttled(error: unknown): {payload: string; statusCode: number; throttled: true} {
  if (isUserError(error) && error.code === 'THROTTLED') return {payload: '', statusCode: 429, throttled: true}
  throw error
}

function resultOf(message: Record<string, unknown>): CheckerResult {
  const differences = Array.isArray(message.differences) ? message.differences.map(String) : []
  return {
    ...(message as Partial<CheckerResult>),
    // A checker that names a difference has found the answer wrong, whatever else it says.
    correct: message.correct === true && differences.length === 0,
    differences,
    invocations: Array.isArray(message.invocations) ? message.invocations : [],
  }
}

function onLines(stream: PassThrough, listener: (line: string) => void) {
  let partial = ''
  stream.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8')
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) listener(line.replace(/\r$/, ''))
  })
  stream.on('end', () => {
    if (partial) listener(partial)
  })
}
