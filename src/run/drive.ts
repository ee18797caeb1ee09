import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import type {InvokeOutcome} from '../core/invoke.js'
import type {BenchmarkManifest} from '../core/manifest.js'
import type {InvocationRecord} from '../core/records.js'
import type {DockerEngine} from '../docker/engine.js'
import {ensureBucket, getBytes, listKeys, uploadMissing} from '../storage/s3.js'
import type {DeployedApi, RunStorage} from '../targets/target.js'
import {httpClient, type HttpClient} from '../bench/http.js'
import {buildChecker, Checker, MAX_IN_FLIGHT, type CheckerResult, type HttpRequest} from './checker.js'

/** What a run learnt by driving the entry function, as the run record keeps it. */
export interface Driven {
  /** Every call of the entry function, in order. */
  outcomes: InvokeOutcome[]
  correct: boolean
  differences: string[]
  verified?: string
  /** The wrong-answer message's words for what is wrong ("the word counts are wrong"). */
  wrong?: string
  output: unknown
  config: Record<string, unknown>
  words?: {total: number; distinct: number}
  bytes?: Record<string, number>
  phasesMs: Record<string, number>
  /** Calls the functions made among themselves (seq is set by the record). */
  invocations: Array<Omit<InvocationRecord, 'seq'>>
}

/** The run's pieces the checker works with. */
export interface DriveContext {
  seed: number
  runId: string
  payload: unknown
  invoke: (payload: unknown) => Promise<InvokeOutcome>
  storage: RunStorage
  /** The tables the manifest declares: the only ones a checker may seed or read. */
  tables: string[]
  /** The benchmark's routes where they were deployed: a checker's http_many requests go to this stage URL. */
  api?: DeployedApi
}

/**
 * Builds (cached) and starts the benchmark's checker and has it validate the payload and run flags: a refusal is
 * thrown here, before any function image is built.
 */
export async function startChecker(
  engine: DockerEngine,
  manifest: BenchmarkManifest,
  options: {tag: string; baseImage?: string; payload: unknown; params: Record<string, unknown>; seed: number},
  emit: Emit,
): Promise<{checker: Checker; params: Record<string, unknown>}> {
  await engine.ping()
  const image = await buildChecker(engine, {...manifest, check: manifest.check!}, options, emit)
  const checker = await Checker.start(engine, image, manifest.name, emit)
  try {
    const params = await checker.validate({payload: options.payload, params: options.params, seed: options.seed})
    return {checker, params}
  } catch (error) {
    await checker.stop()
    throw error
  }
}

/** The bucket, made on first use: only checkers that keep input in S3 ask for it. */
function bucketReady(storage: RunStorage) {
  let ready: Promise<unknown> | undefined
  return async () => {
    ready ??= storage.s3.config
      .region()
      .then((region) => ensureBucket(storage.s3, storage.bucket, region ?? 'us-east-1'))
    await ready
    return storage
  }
}

/** Runs the check: faas invokes and stores on the checker's behalf; its result becomes the record's fields. */
export async function driveChecked(
  started: {checker: Checker; params: Record<string, unknown>},
  context: DriveContext,
): Promise<Driven> {
  const outcomes: InvokeOutcome[] = []
  const storage = bucketReady(context.storage)
  let client: HttpClient | undefined
  const http = async (request: HttpRequest) => {
    client ??= httpClient({connections: MAX_IN_FLIGHT})
    const answer = await apiRequest(client, context.api, request)
    outcomes.push(answer)
    return {statusCode: answer.statusCode, body: answer.payload, clientLatencyUs: answer.clientLatencyUs}
  }
  const api = context.api && {stage: context.api.stage, routes: context.api.routes.map((r) => r.routeKey)}
  const result: CheckerResult = await started.checker
    .run(
      {
        seed: context.seed,
        runId: context.runId,
        bucket: context.storage.bucket,
        payload: context.payload,
        params: started.params,
        ...(api ? {api} : {}),
      },
      {
        invoke: async (payload) => {
          const outcome = await context.invoke(payload)
          outcomes.push(outcome)
          return {...outcome}
        },
        put: async (objects) => {
          const {s3, bucket} = await storage()
          return uploadMissing(s3, bucket, objects)
        },
        get: async (key) => {
          const {s3, bucket} = await storage()
          return getBytes(s3, bucket, key)
        },
        exists: async (key) => {
          const {s3, bucket} = await storage()
          return (await listKeys(s3, bucket, key)).has(key)
        },
        tablePut: (table, items) => context.storage.tables.put(declared(table, context.tables), items),
        tableScan: (table) => context.storage.tables.scan(declared(table, context.tables)),
        http,
      },
    )
    .finally(() => client?.close())
  return {
    outcomes,
    correct: result.correct,
    differences: result.differences,
    verified: result.verified,
    wrong: result.wrong,
    output: result.output,
    config: result.config ?? {payload: context.payload},
    words: result.words,
    bytes: result.bytes,
    phasesMs: result.phasesMs ?? {},
    invocations: (result.invocations ?? []).map((i) => ({
      ...(i as unknown as Omit<InvocationRecord, 'seq'>),
      phase: 'measure',
    })),
  }
}

/** One request of a checker to the benchmark's API, as the record keeps a call (its path as the name). */
async function apiRequest(client: HttpClient, api: DeployedApi | undefined, request: HttpRequest) {
  if (!api)
    throw new UserError('The checker sent HTTP requests, but the benchmark has no routes deployed on this target.', {
      code: 'NO_API',
      fix: 'Declare its routes under "api" in benchmark.json, or have the checker invoke the entry instead.',
    })
  const base = new URL(api.url)
  const answer = await client.send({
    origin: base.origin,
    method: request.method,
    path: base.pathname.replace(/\/$/, '') + request.path,
    headers: request.headers,
    body: request.body,
  })
  return {
    name: `${request.method} ${request.path}`,
    statusCode: answer.statusCode,
    payload: answer.body,
    startedAtUs: answer.startedAtUs,
    clientLatencyUs: answer.clientLatencyUs,
  }
}

/** A table a checker names must be one the manifest declares (a checker reads no one else's data). */
function declared(table: string, tables: string[]): string {
  if (tables.includes(table)) return table
  throw new UserError(`The checker asked for table "${table}", which benchmark.json does not declare.`, {
    code: 'UNDECLARED_TABLE',
    fix: `Declare it under "tables" in benchmark.json (declared: ${tables.join(', ') || 'none'}).`,
  })
}

/** No checker: the entry is invoked once with the payload, and its answer kept, unchecked. */
export async function driveUnchecked(payload: unknown, invoke: DriveContext['invoke']): Promise<Driven> {
  const outcome = await invoke(payload)
  return {
    outcomes: [outcome],
    correct: true,
    differences: [],
    output: JSON.parse(outcome.payload || 'null') as unknown,
    config: {payload},
    phasesMs: {},
    invocations: [],
  }
}
