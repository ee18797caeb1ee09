import type {LambdaClient} from '@aws-sdk/client-lambda'
import {deleteHttpApi, ensureHttpApi, findHttpApi} from '../aws/apigateway.js'
import {clientConfig, type AwsClients} from '../aws/clients.js'
import {deleteRepository, findEcrImage, parseEcrUri} from '../aws/ecr-images.js'
import {deleteRole, ensureRole, MANAGED_TAG} from '../aws/iam.js'
import {
  createFunction,
  defaultRetry,
  deleteFunction,
  getFunction,
  invoke,
  listFunctionRoles,
  setReservedConcurrency,
  updateCode,
  updateConfiguration,
  type RetryPolicy,
} from '../aws/lambda.js'
import type {ApiSpec} from '../core/api-routes.js'
import {UserError} from '../core/errors.js'
import {lambdaArchitecture} from '../core/platform.js'
import type {Emit} from '../core/events.js'
import type {Settings} from '../core/settings.js'
import type {TableManifest, TableOutcome} from '../core/tables.js'
import type {DockerEngine, ImageInfo} from '../docker/engine.js'
import {configDiff} from './config-diff.js'
import {withPublished} from './publish.js'
import {deployEventSources, destroyEventSources, type QueueMaker} from './event-sources.js'
import {deployFunctionUrl, destroyFunctionUrl} from './function-url.js'
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

export interface AwsTargetOptions {
  clients: Pick<AwsClients, 'ecr' | 'iam' | 'lambda' | 'invoker'> &
    Partial<Pick<AwsClients, 'ecrProbe' | 'apigateway' | 'sqs'>>
  retry?: RetryPolicy
  /** Region and credentials for what lies around the functions (ECR pushes, S3, schedules); createTarget gives them. */
  settings?: Settings
}

export const roleNameOf = (spec: Pick<FunctionSpec, 'name' | 'role'>): string => spec.role ?? `${spec.name}-role`

/** The URI Lambda is given: by digest when known, so a moved tag cannot change what runs. */
export function deployUri(spec: FunctionSpec): string {
  if (!spec.image.digest) return spec.image.uri
  const at = spec.image.uri.indexOf('@')
  const base = at >= 0 ? spec.image.uri.slice(0, at) : spec.image.uri.replace(/:[\w][\w.-]*$/, '')
  return `${base}@${spec.image.digest}`
}

/** AWS Lambda: functions from ECR images, with IAM roles holding policy bundles. */
export class AwsTarget implements RunTarget {
  readonly kind = 'aws' as const
  readonly #clients: AwsTargetOptions['clients']
  readonly #retry: RetryPolicy
  readonly #settings?: Settings

  constructor(options: AwsTargetOptions) {
    this.#clients = options.clients
    this.#retry = options.retry ?? defaultRetry
    this.#settings = options.settings
  }

  get #knownSettings(): Settings {
    if (!this.#settings) throw new Error('AwsTarget was made without settings: use createTarget')
    return this.#settings
  }

  /**
   * Checks every spec before anything is written: an ECR image that exists (its
   * digest is filled in), and an architecture the image has. Throws the first problem as a UserError.
   */
  async preflight(specs: FunctionSpec[]): Promise<FunctionSpec[]> {
    return Promise.all(
      specs.map(async (spec) => {
        const ecr = parseEcrUri(spec.image.uri)
        if (!ecr) {
          throw new UserError(`Lambda runs images from ECR only, and ${spec.image.uri} is not an ECR image.`, {
            code: 'NOT_ECR',
            fix:
              'Unset FAAS_REGISTRY for AWS deploys (faas then uses <account>.dkr.ecr.<region>.amazonaws.com), or ' +
              'use --target local.',
          })
        }
        if (ecr.digest || !ecr.tag) return spec
        const image = await findEcrImage(
          this.#clients.ecr,
          ecr.registryId,
          ecr.repository,
          ecr.tag,
          this.#clients.ecrProbe,
        )
        // A single-platform image can only run on its own architecture (the seed's arm64-on-x86_64 failure).
        if (image.architectures.length === 1)
          return {
            ...spec,
            image: {...spec.image, digest: image.digest, architecture: lambdaArchitecture(image.architectures[0]!)},
          }
        const wanted = spec.image.architecture === 'x86_64' ? 'amd64' : 'arm64'
        if (image.architectures.length > 0 && !image.architectures.includes(wanted)) {
          throw new UserError(`${spec.image.uri} holds ${image.architectures.join(', ')} only, not ${wanted}.`, {
            code: 'ARCH_MISMATCH',
            fix:
              `Deploy with --arch ${image.architectures[0] === 'amd64' ? 'x86_64' : image.architectures[0]}, or ` +
              `build for linux/${wanted}.`,
          })
        }
        return {...spec, image: {...spec.image, digest: image.digest}}
      }),
    )
  }

  async deploy(spec: FunctionSpec, emit: Emit): Promise<DeployOutcome> {
    const outcome = await this.#deployFunction(spec, emit)
    const withUrl = await deployFunctionUrl(this.#clients.lambda, spec, outcome, this.#retry, emit)
    const makeQueue: QueueMaker = async (name, visibilityTimeoutS) => {
      const {ensureQueue} = await import('../aws/sqs.js')
      return ensureQueue(await this.#sqs(), name, visibilityTimeoutS)
    }
    const withSources = await deployEventSources(this.#clients.lambda, spec, withUrl, this.#retry, emit, makeQueue)
    return withPublished(this.#clients.lambda, spec, withSources, emit)
  }

  async #deployFunction(spec: FunctionSpec, emit: Emit): Promise<DeployOutcome> {
    const subject = spec.name
    const {iam, lambda} = this.#clients
    emit({kind: 'start', subject, message: `Deploying ${spec.name}…`})
    const role = await ensureRole(iam, roleNameOf(spec), spec.policies, {named: spec.role !== undefined})
    if (role.writes.length > 0)
      emit({kind: 'progress', subject, message: `role ${role.name}: ${role.writes.join(', ')}`})
    const imageUri = deployUri(spec)
    const command = spec.handler ? [spec.handler] : undefined
    let current = await getFunction(lambda, spec.name)
    const changed: string[] = role.writes.length > 0 ? ['role'] : []
    if (!current) {
      emit({kind: 'progress', subject, message: 'creating function, waiting for Active'})
      const arn = await createFunction(
        lambda,
        {
          name: spec.name,
          roleArn: role.arn,
          imageUri,
          architecture: spec.image.architecture,
          memoryMb: spec.memoryMb,
          timeoutS: spec.timeoutS,
          env: spec.env,
          command,
          ephemeralStorageMb: spec.ephemeralStorageMb,
          logFormat: spec.logFormat === 'JSON' ? 'JSON' : undefined,
          tags: {[MANAGED_TAG.Key]: MANAGED_TAG.Value},
        },
        this.#retry,
      )
      if (arn) {
        if (spec.reservedConcurrency !== undefined)
          await setReservedConcurrency(lambda, spec.name, spec.reservedConcurrency, this.#retry)
        emit({kind: 'done', subject, message: `Created ${spec.name}`})
        return {name: spec.name, arn, action: 'created', changed: ['function', ...changed]}
      }
      // It existed after all (a lost answer, or another deploy won the race): converge by updating it.
      current = await getFunction(lambda, spec.name)
      if (!current)
        throw new UserError(`${spec.name} existed a moment ago and is gone now.`, {
          code: 'FUNCTION_VANISHED',
          fix: 'Another process is deleting it; deploy again once that is done.',
        })
    }
    if (current.imageUri !== imageUri) changed.push('image')
    if (current.architectures[0] !== spec.image.architecture) changed.push('architecture')
    if (changed.includes('image') || changed.includes('architecture')) {
      emit({kind: 'progress', subject, message: 'updating image, waiting for the update'})
      await updateCode(lambda, spec.name, imageUri, spec.image.architecture, this.#retry)
    }
    const {change: config, changed: configChanged} = configDiff(current, spec, command, role.arn)
    changed.push(...configChanged)
    if (Object.keys(config).length > 0) {
      emit({
        kind: 'progress',
        subject,
        message:
          `updating ${changed.filter((c) => !['role', 'image', 'architecture'].includes(c)).join(', ')}, ` +
          `waiting for the update`,
      })
      await updateConfiguration(lambda, spec.name, config, this.#retry)
    }
    if (spec.reservedConcurrency !== undefined && current.reservedConcurrency !== spec.reservedConcurrency) {
      await setReservedConcurrency(lambda, spec.name, spec.reservedConcurrency, this.#retry)
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

  async lambda(): Promise<LambdaClient> {
    return this.#clients.lambda
  }

  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    return invoke(this.#clients.invoker, request)
  }

  describe(name: string): Promise<FunctionState | undefined> {
    return getFunction(this.#clients.lambda, name)
  }

  reconfigure(name: string, change: Reconfiguration): Promise<void> {
    return updateConfiguration(this.#clients.lambda, name, change, this.#retry)
  }

  /**
   * Functions first, then (with roles) the roles faas made for them, policies detached first.
   * A role another function still uses is kept.
   */
  async destroy(functionNames: string[], options: {roles?: boolean}, emit: Emit): Promise<DestroyOutcome[]> {
    const {iam, lambda} = this.#clients
    const functions = await Promise.all(
      functionNames.map(async (name) => {
        emit({kind: 'start', subject: name, message: `Deleting ${name}…`})
        const current = await getFunction(lambda, name)
        const url = current ? await destroyFunctionUrl(lambda, name, this.#retry, emit) : []
        const mappings = current ? await destroyEventSources(lambda, name, this.#retry, emit) : []
        const outcome: DestroyOutcome = {
          name,
          kind: 'function',
          action: current ? await deleteFunction(lambda, name, this.#retry) : 'absent',
        }
        emit({kind: 'done', subject: name, message: `function ${name} ${outcome.action}`})
        return {outcomes: [...url, ...mappings, outcome], role: current?.role.split('/').pop() ?? `${name}-role`}
      }),
    )
    const outcomes = functions.flatMap((f) => f.outcomes)
    if (!options.roles) return outcomes
    const inUse = await listFunctionRoles(lambda)
    const roleNames = [...new Set(functions.map((f) => f.role))]
    for (const roleName of roleNames) {
      const users = [...inUse.entries()].find(([arn]) => arn.endsWith(`/${roleName}`))?.[1]
      if (users) {
        emit({kind: 'warn', subject: roleName, message: `kept role ${roleName}: still used by ${users.join(', ')}`})
        continue
      }
      const action = await deleteRole(iam, roleName)
      if (action === 'kept')
        emit({kind: 'warn', subject: roleName, message: `kept role ${roleName}: faas did not create it`})
      else outcomes.push({name: roleName, kind: 'role', action})
    }
    return outcomes
  }

  /** API Gateway's client: the one given, else one made from the settings on first use. */
  async #apigateway(): Promise<NonNullable<AwsTargetOptions['clients']['apigateway']>> {
    if (this.#clients.apigateway) return this.#clients.apigateway
    const {ApiGatewayV2Client} = await import('@aws-sdk/client-apigatewayv2')
    return (this.#madeApigateway ??= new ApiGatewayV2Client(clientConfig(this.#knownSettings)))
  }

  #madeApigateway?: NonNullable<AwsTargetOptions['clients']['apigateway']>

  /** SQS's client (queues faas makes for event sources): the one given, else one made from the settings. */
  async #sqs(): Promise<NonNullable<AwsTargetOptions['clients']['sqs']>> {
    if (this.#clients.sqs) return this.#clients.sqs
    const {SQSClient} = await import('@aws-sdk/client-sqs')
    return (this.#madeSqs ??= new SQSClient(clientConfig(this.#knownSettings)))
  }

  #madeSqs?: NonNullable<AwsTargetOptions['clients']['sqs']>

  /**
   * The routes as an API Gateway HTTP API named `name` (integrations, routes, an auto-deployed stage, and the
   * permission for API Gateway on each function), converged idempotently: a second deploy writes nothing.
   */
  async ensureApi(name: string, api: ApiSpec, emit: Emit): Promise<DeployedApi> {
    emit({kind: 'start', subject: name, message: `Deploying the HTTP API of ${name}…`})
    // A route whose function is not deployed (deploy --function of some of them) is left out until it is.
    const arns = new Map<string, string>()
    for (const fn of new Set(api.routes.map((r) => r.function))) {
      const state = await getFunction(this.#clients.lambda, fn)
      if (state) arns.set(fn, state.arn)
      else
        emit({
          kind: 'warn',
          subject: name,
          message: `routes to ${fn} are left out of the HTTP API: ${fn} is not deployed (deploy it, then deploy again)`,
        })
    }
    const routes = api.routes.filter((r) => arns.has(r.function))
    const state = await ensureHttpApi(
      {apigateway: await this.#apigateway(), lambda: this.#clients.lambda},
      {
        name,
        stage: api.stage,
        routes: routes.map((r) => ({
          routeKey: r.routeKey,
          functionArn: arns.get(r.function)!,
          payloadFormat: r.payloadFormat,
        })),
      },
    )
    const action = state.writes.includes('api') ? 'created' : state.writes.length > 0 ? 'updated' : 'unchanged'
    emit({
      kind: 'done',
      subject: name,
      message:
        action === 'unchanged'
          ? `HTTP API of ${name} is up to date at ${state.url}`
          : `HTTP API of ${name} ${action} (${state.writes.join(', ')}) at ${state.url}`,
    })
    return {
      name,
      url: state.url,
      stage: api.stage,
      routes: routes.map((r) => ({routeKey: r.routeKey, function: r.function, payloadFormat: r.payloadFormat})),
      action,
      changed: state.writes,
    }
  }

  /** An HTTP API of this name that faas did not make is refused before the deploy writes anything. */
  async checkApi(name: string): Promise<void> {
    await findHttpApi(await this.#apigateway(), name)
  }

  /** Deletes the HTTP API `name` (and API Gateway's permission on its functions); 'absent' when there is none. */
  async destroyApi(name: string, emit: Emit): Promise<DestroyOutcome> {
    const action = await deleteHttpApi({apigateway: await this.#apigateway(), lambda: this.#clients.lambda}, name)
    emit({kind: 'done', subject: name, message: `API ${name} ${action}`})
    return {name, kind: 'api', action}
  }

  /** ECR repositories, only when asked (images are slow to rebuild). */
  async destroyRepositories(names: string[], emit: Emit): Promise<DestroyOutcome[]> {
    return Promise.all(
      names.map(async (name): Promise<DestroyOutcome> => {
        const action = await deleteRepository(this.#clients.ecr, name)
        emit({kind: 'done', subject: name, message: `repository ${name} ${action}`})
        return {name, kind: 'repository', action}
      }),
    )
  }

  /** Lambda runs images from ECR: each set is pushed (what the registry holds already is skipped). */
  async prepare(request: PrepareRequest, emit: Emit): Promise<PreparedImage[][]> {
    const timed = request.timed ?? ((_phase, work) => work())
    const settings = this.#knownSettings
    const [{resolveRegistry}, {pushBenchmark}] = await Promise.all([
      import('../images/registry.js'),
      import('../images/push.js'),
    ])
    const registry = await resolveRegistry(settings, request.registry)
    const prepared: PreparedImage[][] = []
    for (const build of request.builds) {
      const pushed = await timed('push', () =>
        pushBenchmark(
          request.engine,
          settings,
          request.manifest,
          {functions: build.functions, tag: build.tag, registry},
          emit,
        ),
      )
      prepared.push(pushed.map((p) => ({function: p.function, uri: p.uri, digest: p.digest})))
    }
    return prepared
  }

  /** An image by reference need not be in the engine: Lambda takes it from its registry. */
  inspectImage(engine: DockerEngine, ref: string): Promise<ImageInfo | undefined> {
    return engine.inspectImage(ref)
  }

  async storage(options: {bucket?: string}): Promise<RunStorage> {
    const [{defaultRunBucket, s3For}, {dynamodbFor, tableItems}] = await Promise.all([
      import('../storage/s3.js'),
      import('../storage/tables.js'),
    ])
    const settings = this.#knownSettings
    return {
      s3: s3For('aws', settings),
      bucket: options.bucket ?? (await defaultRunBucket('aws', settings)),
      tables: tableItems(dynamodbFor('aws', settings)),
    }
  }

  /** An EventBridge Scheduler schedule (and the role it assumes), removed by stop(). */
  async keepWarm(request: {name: string; everyS: number; payload: unknown}, emit: Emit): Promise<KeepWarm> {
    const [{SchedulerClient}, {clientConfig}, {deleteKeepWarmSchedule, ensureKeepWarmSchedule}] = await Promise.all([
      import('@aws-sdk/client-scheduler'),
      import('../aws/clients.js'),
      import('../aws/scheduler.js'),
    ])
    const clients = {scheduler: new SchedulerClient(clientConfig(this.#knownSettings)), iam: this.#clients.iam}
    const fn = await getFunction(this.#clients.lambda, request.name)
    const schedule = await ensureKeepWarmSchedule(clients, {
      name: `${request.name}-keep-warm`,
      functionArn: fn!.arn,
      everyS: request.everyS,
      payload: request.payload,
    })
    emit({kind: 'done', subject: 'keep-warm', message: `Schedule ${schedule.name}: ${schedule.expression}`})
    return {
      expression: schedule.expression,
      async stop() {
        await deleteKeepWarmSchedule(clients, schedule)
        emit({kind: 'done', subject: 'keep-warm', message: `Removed schedule ${schedule.name}`})
        return undefined
      },
    }
  }

  async ensureTables(tables: TableManifest[], emit: Emit): Promise<TableOutcome[]> {
    const {dynamodbFor, ensureTables} = await import('../storage/tables.js')
    return ensureTables(dynamodbFor('aws', this.#knownSettings), tables, emit)
  }

  async destroyTables(names: string[], emit: Emit): Promise<DestroyOutcome[]> {
    const {dynamodbFor, destroyTables} = await import('../storage/tables.js')
    return destroyTables(dynamodbFor('aws', this.#knownSettings), names, emit)
  }

  async destroyQueues(names: string[], emit: Emit): Promise<DestroyOutcome[]> {
    const {destroyQueues} = await import('../storage/queues.js')
    return destroyQueues(await this.#sqs(), names, emit)
  }

  /** A failed run's functions stay deployed on AWS (a rerun reuses them); the error is reported as it is. */
  async runFailed(_functionNames: string[], error: unknown): Promise<unknown> {
    return error
  }
}
