import {GetFunctionConfigurationCommand, LambdaClient} from '@aws-sdk/client-lambda'

import {invokeHandler} from '../aws/clients.js'
import {
  createFunction,
  deleteFunction,
  getFunction,
  invoke,
  setReservedConcurrency,
  updateCode,
  updateConfiguration,
  type RetryPolicy,
} from '../aws/lambda.js'
import {UserError, isUserError, messageOf} from '../core/errors.js'
import {lambdaArchitecture} from '../core/platform.js'
import type {ApiSpec} from '../core/api-routes.js'
import type {Emit} from '../core/events.js'
import type {Settings} from '../core/settings.js'
import type {TableManifest, TableOutcome} from '../core/tables.js'
import {DockerEngine, type ImageInfo} from '../docker/engine.js'
import {readSecrets} from '../local/credentials.js'
import {signRequest} from '../local/sigv4.js'
import {
  ensureLocalService,
  health,
  identify,
  notOurs,
  readState,
  type HealthAnswer,
  type StartOptions,
} from '../local/service-process.js'
import {configDiff} from './config-diff.js'
import {checkService} from './local-service-check.js'
import {withPublished} from './publish.js'
import {deployEventSources, destroyEventSources} from './event-sources.js'
import {deployFunctionUrl, destroyFunctionUrl} from './function-url.js'
import {startPinger} from './pinger.js'
import type {
  DeployedApi,
  DeployOutcome,
  DestroyOutcome,
  FunctionSpec,
  FunctionState,
  InvokeOutcome,
  InvokeRequest,
  KeepWarm,
  PreparedImage,
  PrepareRequest,
  Reconfiguration,
  RunStorage,
  RunTarget,
} from './target.js'

/**
 * Local control-plane calls never wait for IAM propagation and answer at once: wait little for an update in progress.
 */
const LOCAL_RETRY: RetryPolicy = {
  attempts: 3,
  delayMs: (attempt) => 100 * 2 ** attempt,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
}

interface Clients {
  lambda: LambdaClient
  invoker: LambdaClient
  /** What the clients were made with: the service's endpoint, region and pair (for faas's own routes). */
  config: {endpoint: string; region: string; credentials: {accessKeyId: string; secretAccessKey: string}}
}

export interface LocalTargetOptions {
  /** The service's endpoint; when absent the first call finds or starts one (ensureLocalService). */
  endpoint?: string
  service?: StartOptions
  engine?: DockerEngine
  /** Calls the invoker must carry at once (bench --max-in-flight): its sockets are sized to it. */
  maxInFlight?: number
  /** The pair to sign with (an in-process service's); by default the stored one, once the service proved it is ours. */
  credentials?: {accessKeyId: string; secretAccessKey: string}
}

/**
 * The local Lambda service as a target: the same Lambda API calls as on AWS (the SDK pointed at
 * the local endpoint), with local engine images and no IAM or ECR.
 */
export class LocalTarget implements RunTarget {
  readonly kind = 'local' as const
  #clients?: Promise<Clients>
  readonly #engine: DockerEngine

  constructor(
    private readonly settings: Settings,
    private readonly options: LocalTargetOptions = {},
  ) {
    this.#engine = options.engine ?? new DockerEngine()
  }

  /** Lambda API clients of the service (found or started on first use): control calls, and one attempt per invoke. */
  #lambda(emit?: Emit): Promise<Clients> {
    this.#clients ??= (async () => {
      const endpoint = this.options.endpoint ?? (await ensureLocalService(this.settings, this.options.service, emit))
      // The service checks SigV4 with its own pair: the user's AWS keys never go to it.
      let credentials = this.options.credentials
      let region = this.settings.region ?? 'us-east-1'
      if (!credentials) {
        const who = await identify(endpoint)
        if (who.who === 'other') throw notOurs(endpoint)
        if (who.who === 'ours') ({secrets: credentials, region} = who)
        // Nothing answers: the first call fails and says so.
        else credentials = readSecrets() ?? {accessKeyId: 'none', secretAccessKey: 'none'}
      }
      const config = {
        endpoint,
        region,
        credentials: {accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey},
      }
      return {
        config,
        lambda: new LambdaClient({...config, maxAttempts: 3}),
        invoker: new LambdaClient({...config, maxAttempts: 1, requestHandler: invokeHandler(this.options.maxInFlight)}),
      }
    })()
    return this.#clients
  }

  /**
   * Every image must be in the engine before anything is deployed; each function takes its image's architecture, which
   * is what runs.
   */
  async preflight(specs: FunctionSpec[]): Promise<FunctionSpec[]> {
    return Promise.all(
      specs.map(async (spec) => {
        const image = await this.#localImage(spec)
        return {...spec, image: {...spec.image, architecture: lambdaArchitecture(image.architecture)}}
      }),
    )
  }

  async #localImage(spec: FunctionSpec) {
    const image = await this.#engine.inspectImage(spec.image.uri)
    if (!image) {
      throw new UserError(`The image ${spec.image.uri} of ${spec.name} is not in the local Docker engine.`, {
        code: 'NO_LOCAL_IMAGE',
        fix: 'Build it first (faas build <benchmark>); the local target runs images straight from the engine.',
      })
    }
    return image
  }

  async deploy(spec: FunctionSpec, emit: Emit): Promise<DeployOutcome> {
    const outcome = await this.#deployFunction(spec, emit)
    const {lambda} = await this.#lambda(emit)
    const withUrl = await deployFunctionUrl(lambda, spec, outcome, LOCAL_RETRY, emit)
    const makeQueue = (await import('../storage/queues.js')).localQueueMaker(() => this.#queues(emit), spec.name)
    const withSources = await deployEventSources(lambda, spec, withUrl, LOCAL_RETRY, emit, makeQueue)
    return withPublished(lambda, spec, withSources, emit)
  }

  async #deployFunction(spec: FunctionSpec, emit: Emit): Promise<DeployOutcome> {
    const subject = spec.name
    const image = await this.#localImage(spec)
    const {lambda} = await this.#lambda(emit)
    emit({kind: 'start', subject, message: `Deploying ${spec.name} locally…`})
    const command = spec.handler ? [spec.handler] : undefined
    let current = await getFunction(lambda, spec.name)
    if (!current) {
      const arn = await createFunction(
        lambda,
        {
          name: spec.name,
          roleArn: `arn:aws:iam::000000000000:role/${spec.role ?? `${spec.name}-role`}`,
          imageUri: spec.image.uri,
          architecture: spec.image.architecture,
          memoryMb: spec.memoryMb,
          timeoutS: spec.timeoutS,
          env: spec.env,
          command,
          ephemeralStorageMb: spec.ephemeralStorageMb,
          logFormat: spec.logFormat === 'JSON' ? 'JSON' : undefined,
        },
        LOCAL_RETRY,
      )
      if (arn) {
        if (spec.reservedConcurrency !== undefined)
          await setReservedConcurrency(lambda, spec.name, spec.reservedConcurrency, LOCAL_RETRY)
        emit({kind: 'done', subject, message: `Created ${spec.name} on the local service`})
        return {name: spec.name, arn, action: 'created', changed: ['function']}
      }
      // It existed after all (a lost answer, or another deploy won the race): converge by updating it.
      current = await getFunction(lambda, spec.name)
      if (!current)
        throw new UserError(`${spec.name} existed a moment ago and is gone now.`, {
          code: 'FUNCTION_VANISHED',
          fix: 'Another process is deleting it; deploy again once that is done.',
        })
    }
    const changed: string[] = []
    // A rebuilt image keeps its tag: compare what the tag points at now (CodeSha256 is the image digest's hex).
    if (current.imageUri !== spec.image.uri || (await this.#imageMoved(lambda, spec.name, image.id)))
      changed.push('image')
    if (changed.includes('image'))
      await updateCode(lambda, spec.name, spec.image.uri, spec.image.architecture, LOCAL_RETRY)
    const {change: config, changed: configChanged} = configDiff(current, spec, command)
    changed.push(...configChanged)
    if (Object.keys(config).length > 0) await updateConfiguration(lambda, spec.name, config, LOCAL_RETRY)
    if (spec.reservedConcurrency !== undefined && current.reservedConcurrency !== spec.reservedConcurrency) {
      await setReservedConcurrency(lambda, spec.name, spec.reservedConcurrency, LOCAL_RETRY)
      changed.push('reserved-concurrency')
    }
    const action = changed.length > 0 ? 'updated' : 'unchanged'
    emit({
      kind: 'done',
      subject,
      message: action === 'unchanged' ? `${spec.name} is up to date` : `Updated ${spec.name} (${changed.join(', ')})`,
    })
    return {name: spec.name, arn: current.arn, action, changed}
  }

  async #imageMoved(lambda: LambdaClient, name: string, imageId: string): Promise<boolean> {
    const config = await lambda.send(new GetFunctionConfigurationCommand({FunctionName: name}))
    return config.CodeSha256 !== imageId.replace(/^sha256:/, '')
  }

  async lambda(): Promise<LambdaClient> {
    return (await this.#lambda()).lambda
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const {invoker} = await this.#lambda()
    try {
      return await invoke(invoker, request)
    } catch (error) {
      // The SDK's words are "Cannot reach AWS"; here it is faas's own service that went away.
      if (!isUserError(error) || error.code !== 'AWS_UNREACHABLE') throw error
      throw new UserError(
        `The local Lambda service stopped answering while invoking ${request.name} (${messageOf(error.cause)}); the ` +
          `call's outcome is unknown.`,
        {
          code: 'LOCAL_SERVICE_GONE',
          fix:
            'It was stopped or killed (see faas local logs, or service.log under FAAS_HOME/local). Run the ' +
            "command again: faas starts a new service, which removes the old one's containers.",
          cause: error,
        },
      )
    }
  }

  async describe(name: string): Promise<FunctionState | undefined> {
    return getFunction((await this.#lambda()).lambda, name)
  }

  async reconfigure(name: string, change: Reconfiguration): Promise<void> {
    await updateConfiguration((await this.#lambda()).lambda, name, change, LOCAL_RETRY)
  }

  async destroy(functionNames: string[], _options: {roles?: boolean}, emit: Emit): Promise<DestroyOutcome[]> {
    const {lambda} = await this.#lambda(emit)
    const outcomes = await Promise.all(
      functionNames.map(async (name): Promise<DestroyOutcome[]> => {
        if (!(await getFunction(lambda, name))) {
          emit({kind: 'done', subject: name, message: `function ${name} absent`})
          return [{name, kind: 'function', action: 'absent'}]
        }
        const url = await destroyFunctionUrl(lambda, name, LOCAL_RETRY, emit)
        const mappings = await destroyEventSources(lambda, name, LOCAL_RETRY, emit)
        const action = await deleteFunction(lambda, name, LOCAL_RETRY)
        emit({kind: 'done', subject: name, message: `function ${name} ${action}`})
        return [...url, ...mappings, {name, kind: 'function', action}]
      }),
    )
    return outcomes.flat()
  }

  /** The service's own API (its health, routes at /faas/apis/{name}), signed as the SDK signs. */
  async #serviceCall(method: 'GET' | 'PUT' | 'DELETE', path: string, body: unknown, emit?: Emit): Promise<Response> {
    const {config} = await this.#lambda(emit)
    const url = new URL(path, config.endpoint)
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers = await signRequest(
      url,
      {method, body: Buffer.from(text ?? ''), headers: text ? {'content-type': 'application/json'} : {}},
      config.credentials,
      config.region,
    )
    return fetch(url, {method, headers, body: text})
  }

  /** One loopback endpoint per benchmark on the service, with API Gateway's matching and payload formats. */
  async ensureApi(name: string, api: ApiSpec, emit: Emit): Promise<DeployedApi> {
    emit({kind: 'start', subject: name, message: `Serving the routes of ${name}…`})
    const res = await this.#serviceCall('PUT', `/faas/apis/${encodeURIComponent(name)}`, api, emit)
    const answer = (await res.json().catch(() => ({}))) as DeployedApi & {message?: string}
    if (!res.ok)
      throw new UserError(`The local service refused the routes of ${name}: ${answer.message ?? res.status}.`, {
        code: 'BAD_ROUTE',
        fix: 'Fix the "api" of the benchmark\'s manifest, or restart an older service (faas local stop).',
      })
    emit({kind: 'done', subject: name, message: `Routes of ${name} at ${answer.url}`})
    return {name: answer.name, url: answer.url, stage: answer.stage, routes: answer.routes}
  }

  async destroyApi(name: string, emit: Emit): Promise<DestroyOutcome> {
    const res = await this.#serviceCall('DELETE', `/faas/apis/${encodeURIComponent(name)}`, undefined, emit)
    const type = res.headers.get('x-amzn-errortype')
    if (!res.ok && type !== 'ResourceNotFoundException' && type !== 'UnknownOperationException')
      throw new UserError(`The local service did not remove the API ${name} (HTTP ${res.status}, ${type}).`, {
        code: 'LOCAL_SERVICE_ERROR',
        fix: 'See faas local logs; run faas destroy again.',
      })
    const action = res.ok ? 'deleted' : 'absent'
    emit({kind: 'done', subject: name, message: `API ${name} ${action}`})
    return {name, kind: 'api', action}
  }

  /**
   * Images run straight from the engine, so only what functions need is started: the local S3 store (always: a
   * service started now serves later runs too) and the service with it.
   */
  async prepare(request: PrepareRequest, emit: Emit): Promise<PreparedImage[][]> {
    const timed = request.timed ?? ((_phase, work) => work())
    const {ensureLocalS3} = await import('../storage/local-s3.js')
    const s3Endpoint = await timed('storage', () => ensureLocalS3(request.engine, {baseImage: request.baseImage}, emit))
    const url = await timed('service', () =>
      ensureLocalService(this.settings, {s3Endpoint, idleTimeoutS: request.service?.idleTimeoutS}, emit),
    )
    if (request.service) await checkService(url, s3Endpoint, request.service)
    // By ID: what was measured is exactly what the record names.
    return request.builds.map((build) => build.images.map((i) => ({function: i.function, uri: i.imageId})))
  }

  async inspectImage(engine: DockerEngine, ref: string, owner: string): Promise<ImageInfo | undefined> {
    const info = await engine.inspectImage(ref)
    if (!info) {
      throw new UserError(`${owner}'s image ${ref} is not in the Docker engine.`, {
        code: 'NO_IMAGE',
        fix: 'Build it, or give buildArgs instead of image so faas builds it.',
      })
    }
    return info
  }

  async storage(options: {bucket?: string}): Promise<RunStorage> {
    const [{defaultRunBucket, s3For}, {dynamodbFor, tableItems}] = await Promise.all([
      import('../storage/s3.js'),
      import('../storage/tables.js'),
    ])
    return {
      s3: s3For('local', this.settings),
      bucket: options.bucket ?? (await defaultRunBucket('local', this.settings)),
      tables: tableItems(dynamodbFor('local', this.settings)),
    }
  }

  async keepWarm(request: {name: string; everyS: number; payload: unknown}, emit: Emit): Promise<KeepWarm> {
    const pinger = startPinger((r) => this.invoke(r), request)
    // The first ping starts the environment the schedule then keeps warm, before any measured call.
    await pinger.first
    emit({kind: 'done', subject: 'keep-warm', message: `Pinging ${request.name} every ${request.everyS} s`})
    return {stop: () => pinger.stop()}
  }

  /** Tables live in the local store (its moto answers DynamoDB on the S3 store's endpoint), given to the service. */
  async ensureTables(tables: TableManifest[], emit: Emit): Promise<TableOutcome[]> {
    const {dynamodbFor, ensureTables} = await import('../storage/tables.js')
    await this.#withLocalStore(emit)
    return ensureTables(dynamodbFor('local', this.settings), tables, emit)
  }

  /** The local store and a service that gives it to functions (started, or restarted when idle, with it). */
  async #withLocalStore(emit: Emit): Promise<void> {
    const {ensureLocalS3} = await import('../storage/local-s3.js')
    const s3Endpoint = await ensureLocalS3(this.#engine, {baseImage: this.settings.baseImage}, emit)
    if (!this.options.endpoint) await ensureLocalService(this.settings, {...this.options.service, s3Endpoint}, emit)
  }

  /** Queues live in the emulator the service polls; one faas starts without any gets the local store's. */
  async ensureQueueStore(emit: Emit): Promise<void> {
    const {emulatorSqs} = await import('../storage/queues.js')
    const running = readState()?.url
    if (!this.options.endpoint && !emulatorSqs(running ? await health(running) : undefined))
      await this.#withLocalStore(emit)
  }

  async destroyQueues(names: string[], emit: Emit): Promise<DestroyOutcome[]> {
    const [sqs, {destroyQueues}] = await Promise.all([this.#queues(emit), import('../storage/queues.js')])
    return sqs ? destroyQueues(sqs, names, emit) : names.map((name) => ({name, kind: 'queue', action: 'absent'}))
  }

  /** SQS of the emulator the service polls, as its health answer names it (undefined: it has none). */
  async #queues(emit?: Emit) {
    const res = await this.#serviceCall('GET', '/faas/health', undefined, emit)
    const {emulatorSqs} = await import('../storage/queues.js')
    return emulatorSqs(res.ok ? ((await res.json()) as HealthAnswer) : undefined)
  }

  /** A store that is not running holds no tables (its data went with it). */
  async destroyTables(names: string[], emit: Emit): Promise<DestroyOutcome[]> {
    const [{localS3Answers}, tables] = await Promise.all([
      import('../storage/local-s3.js'),
      import('../storage/tables.js'),
    ])
    if (!(await localS3Answers())) return names.map((name) => ({name, kind: 'table', action: 'absent'}))
    return tables.destroyTables(tables.dynamodbFor('local', this.settings), names, emit)
  }

  /** A failed local run leaves nothing running: its functions (and so their containers) go. */
  async runFailed(functionNames: string[], error: unknown, emit: Emit): Promise<unknown> {
    await this.destroy(functionNames, {roles: false}, emit).catch(() => {})
    const {localS3Answers, localS3Endpoint} = await import('../storage/local-s3.js')
    if (await localS3Answers()) return error
    // A store that died mid-run shows up as some function's S3 error; name the cause instead.
    return new UserError(
      `The local S3 store at ${localS3Endpoint()} stopped answering during the run ` +
        `(${isUserError(error) ? error.message : messageOf(error)}).`,
      {
        code: 'LOCAL_S3_GONE',
        fix: 'Run the same command again: faas starts a new store and uploads the input again.',
        cause: error,
      },
    )
  }
}

export function createLocalTarget(settings: Settings, options: LocalTargetOptions = {}): RunTarget {
  return new LocalTarget(settings, options)
}
