import type {ApiSpec} from '../core/api-routes.js'
import {UserError, isUserError, messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {
  checkAliasName,
  checkEnv,
  checkEphemeralStorage,
  checkFunctionUrl,
  checkLogFormat,
  checkMemory,
  checkReservedConcurrency,
  checkTimeout,
  parseAliasWeight,
} from '../core/function-config.js'
import {sqsSourcesBundle, type DeclaredSqsSource} from '../core/event-sources.js'
import {deployedName, loadBenchmark, resolveEnv, selectFunctions} from '../core/manifest.js'
import {checkFunctionName, checkRepositoryName, checkTag, imageRef} from '../core/names.js'
import {lambdaArchitecture, archOf} from '../core/platform.js'
import {loadPolicyBundles, resolvePolicies, TABLES_BUNDLE, tablesBundle} from '../core/policies.js'
import type {Settings} from '../core/settings.js'
import {resolveRegistry} from '../images/registry.js'
import type {InvokeOutcome, InvokeRequest} from '../core/invoke.js'
import type {TableOutcome} from '../core/tables.js'
import type {DeployedApi, DeployOutcome, DestroyOutcome, FunctionSpec, PublishSpec, Target} from '../targets/target.js'

/** Settings common to both deploy forms; flags override the manifest. */
export interface DeployCommon {
  tag: string
  registry?: string
  /** Lambda architecture; from FAAS_PLATFORM when absent. */
  architecture?: 'arm64' | 'x86_64'
  role?: string
  memoryMb?: number
  timeoutS?: number
  handler?: string
  reservedConcurrency?: number
  /** /tmp size in MB (EphemeralStorage); the manifest's or 512. */
  ephemeralStorageMb?: number
  /** LoggingConfig.LogFormat; the manifest's or Text. */
  logFormat?: 'Text' | 'JSON'
  policiesFile?: string
  /** How many functions are deployed at once. */
  concurrency?: number
  /** Publish a version of each function after deploying it. */
  publish?: boolean
  /** With publish: point this alias at the version. */
  alias?: string
  /** With alias: `V=W`, version V keeps share W of the alias's calls (RoutingConfig). */
  aliasWeight?: string
  /** With publish: provisioned concurrency on the alias (or, without one, on the version). */
  provisioned?: number
  /** --url none|iam: each function gets a Function URL of this auth type. */
  url?: string
  /** --cors-origin: the origins the URL's Cors allows (only with url). */
  corsOrigins?: string[]
}

/** The seed's form: one function from one repository. */
export interface SingleDeploy extends DeployCommon {
  repository: string
  functionName: string
  policies: string[]
  env: Record<string, string>
}

/** Every (or the selected) function of a benchmark, wired together through resolveEnv. */
export interface BenchmarkDeploy extends DeployCommon {
  benchmark: string
  functions?: string[]
}

export interface DeployResult {
  functions: DeployOutcome[]
  /** The benchmark's HTTP routes, when its manifest declares an "api" and the target serves them. */
  api?: DeployedApi
  /** The benchmark's DynamoDB tables, made (or found) before its functions; absent when it declares none. */
  tables?: TableOutcome[]
  wallMs: number
}

export const toArchitecture = (value: string): 'arm64' | 'x86_64' =>
  lambdaArchitecture(value === 'x86_64' ? 'amd64' : value)

async function registryFor(target: Target, settings: Settings, override?: string): Promise<string | undefined> {
  // The local target runs images the engine holds: a bare name:tag unless a registry is named.
  if (target.kind === 'local' && !(override ?? settings.registry)) return undefined
  return resolveRegistry(settings, override)
}

/** `--publish [--alias NAME [--alias-weight V=W]]`, checked before anything is deployed. */
export function planPublish(
  request: Pick<DeployCommon, 'publish' | 'alias' | 'aliasWeight' | 'provisioned' | 'reservedConcurrency'>,
): PublishSpec | undefined {
  if (request.provisioned !== undefined) {
    if (!request.publish)
      throw new UserError(
        '--provisioned keeps environments of a published version ready, but --publish was not given.',
        {
          code: 'BAD_PROVISIONED',
          fix: 'Add --publish (and --alias NAME to provision the alias); $LATEST cannot have provisioned concurrency.',
        },
      )
    if (!Number.isInteger(request.provisioned) || request.provisioned < 1)
      throw new UserError(`Provisioned concurrency ${request.provisioned} is not valid.`, {
        code: 'OUT_OF_RANGE',
        fix: 'Give --provisioned a whole number ≥ 1.',
      })
    if (request.reservedConcurrency !== undefined && request.provisioned > request.reservedConcurrency)
      throw new UserError(
        `Provisioned concurrency ${request.provisioned} is above the reserved concurrency ` +
          `${request.reservedConcurrency}; Lambda refuses that.`,
        {code: 'OUT_OF_RANGE', fix: 'Give --provisioned at most --reserved, or raise --reserved.'},
      )
  }
  if (request.alias !== undefined && !request.publish)
    throw new UserError('--alias points an alias at a published version, but --publish was not given.', {
      code: 'BAD_ALIAS',
      fix: 'Add --publish (the alias then points at the version it publishes).',
    })
  if (request.aliasWeight !== undefined && request.alias === undefined)
    throw new UserError('--alias-weight splits the calls of an alias, but no --alias was given.', {
      code: 'BAD_ALIAS_WEIGHT',
      fix: 'Add --alias NAME (and --publish).',
    })
  if (!request.publish) return undefined
  return {
    ...(request.alias === undefined ? {} : {alias: checkAliasName(request.alias)}),
    ...(request.aliasWeight === undefined ? {} : {weights: parseAliasWeight(request.aliasWeight)}),
    ...(request.provisioned === undefined ? {} : {provisioned: request.provisioned}),
  }
}

/** Builds and checks the specs (nothing is written yet); the policy bundles are resolved here, once. */
export async function planDeploy(
  target: Target,
  settings: Settings,
  request: SingleDeploy | BenchmarkDeploy,
): Promise<FunctionSpec[]> {
  const bundles = loadPolicyBundles(request.policiesFile ?? process.env.FAAS_POLICIES_FILE)
  checkTag(request.tag)
  const publish = planPublish(request)
  const url = checkFunctionUrl(request.url, request.corsOrigins)
  const architecture = request.architecture ?? lambdaArchitecture(archOf(settings.platform))
  const spec = (
    name: string,
    repository: string,
    f: {
      policies: string[]
      env: Record<string, string>
      memoryMb: number
      timeoutS: number
      handler?: string
      reservedConcurrency?: number
      ephemeralStorageMb?: number
      logFormat?: 'Text' | 'JSON'
      eventSources?: DeclaredSqsSource[]
    },
    registry: string | undefined,
  ): FunctionSpec => {
    return {
      name: checkFunctionName(name),
      image: {uri: imageRef(registry, checkRepositoryName(repository), request.tag), architecture},
      handler: request.handler ?? f.handler,
      memoryMb: checkMemory(request.memoryMb ?? f.memoryMb),
      timeoutS: checkTimeout(request.timeoutS ?? f.timeoutS),
      env: checkEnv(f.env),
      // The queues' poller acts with the function's role: it gets the SQS actions on exactly those queues.
      policies: [
        ...resolvePolicies(f.policies, bundles),
        ...(f.eventSources?.length ? [sqsSourcesBundle(f.eventSources, settings.region)] : []),
      ],
      role: request.role,
      reservedConcurrency: checkReservedConcurrency(request.reservedConcurrency ?? f.reservedConcurrency),
      ephemeralStorageMb: checkEphemeralStorage(request.ephemeralStorageMb ?? f.ephemeralStorageMb ?? 512),
      logFormat: checkLogFormat(request.logFormat ?? f.logFormat ?? 'Text'),
      ...(publish ? {publish} : {}),
      ...(url ? {url} : {}),
      ...(f.eventSources ? {eventSources: f.eventSources} : {}),
    }
  }
  if ('benchmark' in request) {
    const manifest = await loadBenchmark(request.benchmark)
    const selected = selectFunctions(manifest, request.functions)
    const registry = await registryFor(target, settings, request.registry)
    // A bundle of the user's own by that name wins, as for every bundle.
    if (manifest.tables.length > 0 && !bundles.has(TABLES_BUNDLE))
      bundles.set(
        TABLES_BUNDLE,
        tablesBundle(
          manifest.tables.map((t) => t.name),
          settings.region,
        ),
      )
    // The manifest's handler is the image's CMD already; only --handler overrides it.
    return selected.map((fn) => {
      const name = deployedName(manifest.name, fn.name)
      return spec(name, name, {...fn, handler: undefined, env: resolveEnv(manifest, fn)}, registry)
    })
  }
  checkFunctionName(request.functionName)
  checkRepositoryName(request.repository)
  const registry = await registryFor(target, settings, request.registry)
  return [
    spec(
      request.functionName,
      request.repository,
      {policies: request.policies, env: request.env, memoryMb: 1024, timeoutS: 120},
      registry,
    ),
  ]
}

/** Runs fn over items, at most `limit` at a time, settling all. */
async function settleLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = {status: 'fulfilled', value: await fn(items[i]!)}
      } catch (error) {
        results[i] = {status: 'rejected', reason: error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  return results
}

/**
 * Deploys one function or a benchmark's functions, concurrently: every spec is checked first
 * (validation, then the target's preflight, e.g. the image is in ECR), so bad input creates nothing.
 */
export async function deploy(
  target: Target,
  settings: Settings,
  request: SingleDeploy | BenchmarkDeploy,
  emit: Emit,
): Promise<DeployResult> {
  const t0 = performance.now()
  const specs = await planDeploy(target, settings, request)
  let tables: TableOutcome[] | undefined
  const functions = await deploySpecs(target, specs, request.concurrency ?? 4, emit, async () => {
    const manifest = 'benchmark' in request ? await loadBenchmark(request.benchmark) : undefined
    // An API the target could not use stops the deploy before anything is made.
    if (manifest?.api && target.checkApi) await target.checkApi(manifest.name)
    // Tables first: a function may use its table from its first call.
    const declared = manifest?.tables ?? []
    tables = declared.length > 0 ? await target.ensureTables(declared, emit) : undefined
    if (target.ensureQueueStore && specs.some((s) => s.eventSources?.some((e) => 'createQueue' in e)))
      await target.ensureQueueStore(emit)
  })
  const api = 'benchmark' in request ? await deployApi(target, request.benchmark, emit) : undefined
  return {functions, ...(tables ? {tables} : {}), ...(api ? {api} : {}), wallMs: performance.now() - t0}
}

/**
 * Deploys checked specs concurrently after the target's preflight (e.g. the image is in ECR), so bad input
 * creates nothing; failures are reported together, one line per cause.
 */
export async function deploySpecs(
  target: Target,
  planned: FunctionSpec[],
  concurrency: number,
  emit: Emit,
  /** What must exist before the functions (a benchmark's tables), once the specs passed the preflight. */
  before: () => Promise<void> = async () => {},
): Promise<DeployOutcome[]> {
  let specs = planned
  emit({
    kind: 'start',
    subject: 'deploy',
    message: `Checking ${specs.length === 1 ? specs[0]!.name : `${specs.length} functions`} before deploying…`,
  })
  if (target.preflight) specs = await target.preflight(specs)
  await before()
  emit({kind: 'done', subject: 'deploy', message: `Deploying ${specs.map((s) => s.name).join(', ')}`})
  const settled = await settleLimited(specs, concurrency, (spec) => target.deploy(spec, emit))
  const failed = settled.flatMap((r, i) =>
    r.status === 'rejected' ? [{name: specs[i]!.name, error: r.reason as unknown}] : [],
  )
  if (failed.length > 0) {
    if (failed.length === 1 && specs.length === 1) throw failed[0]!.error
    const first = failed.find((f) => isUserError(f.error))?.error
    // One line per distinct cause, naming the functions it hit.
    const causes = new Map<string, string[]>()
    for (const f of failed) {
      const message = isUserError(f.error) ? f.error.message : messageOf(f.error)
      causes.set(message, [...(causes.get(message) ?? []), f.name])
    }
    throw new UserError(
      `${failed.length} of ${specs.length} functions failed to ` +
        `deploy: ${[...causes].map(([message, names]) => `${names.join(', ')}: ${message}`).join('; ')}`,
      {
        code: 'DEPLOY_FAILED',
        fix:
          isUserError(first) && first.fix
            ? first.fix
            : 'Fix the cause and deploy again; functions already deployed are left as they are and will not be ' +
              'rewritten.',
        cause: failed[0]!.error,
      },
    )
  }
  return settled.map((r) => (r as PromiseFulfilledResult<DeployOutcome>).value)
}

/** The manifest's routes (checked when it was read), with deployed function names, on targets that serve them. */
async function deployApi(target: Target, benchmark: string, emit: Emit): Promise<DeployedApi | undefined> {
  const manifest = await loadBenchmark(benchmark)
  if (!manifest.api) return undefined
  const routes = manifest.api.routes.map((r) => ({...r, function: deployedName(manifest.name, r.function)}))
  return serveApi(target, manifest.name, {stage: manifest.api.stage, routes}, emit)
}

/** Routes (naming deployed functions) on a target that serves them; elsewhere a warning says they are not. */
export async function serveApi(
  target: Target,
  name: string,
  api: ApiSpec,
  emit: Emit,
): Promise<DeployedApi | undefined> {
  if (!target.ensureApi) {
    emit({
      kind: 'warn',
      subject: name,
      message:
        `its HTTP routes are not deployed: the ${target.kind} target does not serve routes; call the ` +
        `functions through the Invoke API or give them --url`,
    })
    return undefined
  }
  return target.ensureApi(name, api, emit)
}

/** Invokes one function; the outcome carries the payload, function error, log tail and REPORT figures. */
export function invokeFunction(target: Target, request: InvokeRequest): Promise<InvokeOutcome> {
  return target.invoke({...request, name: checkFunctionName(request.name)})
}

/**
 * The deployed names destroy acts on: a benchmark's functions (with `tables` its tables, with `queues` the queues
 * faas made for its functions' event sources), or those named.
 */
export async function destroyPlan(request: {
  benchmark?: string
  functions?: string[]
  functionNames?: string[]
  buckets?: string[]
  tables?: boolean
  queues?: boolean
}): Promise<{functions: string[]; repositories: string[]; tables: string[]; queues: string[]; api?: string}> {
  if (request.benchmark) {
    const manifest = await loadBenchmark(request.benchmark)
    const selected = selectFunctions(manifest, request.functions)
    const names = selected.map((f) => deployedName(manifest.name, f.name))
    // The API goes with the whole benchmark, not with some of its functions.
    const api = manifest.api && !request.functions?.length ? manifest.name : undefined
    const tables = request.tables ? manifest.tables.map((t) => t.name) : []
    const made = selected.flatMap((f) =>
      (f.eventSources ?? []).flatMap((e) => ('createQueue' in e ? [e.createQueue] : [])),
    )
    const queues = request.queues ? [...new Set(made)] : []
    return {functions: names, repositories: names, tables, queues, ...(api ? {api} : {})}
  }
  for (const [flag, what] of [
    ['tables', 'the tables a benchmark declares'],
    ['queues', "the queues faas made for a benchmark's event sources"],
  ] as const)
    if (request[flag])
      throw new UserError(`--${flag} deletes ${what}, and no benchmark is named.`, {
        code: `NO_${flag.toUpperCase()}`,
        fix: `Name the benchmark: faas destroy <benchmark> --${flag}.`,
      })
  const names = (request.functionNames ?? []).map(checkFunctionName)
  if (names.length === 0 && !request.buckets?.length)
    throw new UserError('Nothing to destroy.', {
      code: 'NOTHING_TO_DESTROY',
      fix:
        'Name a benchmark (faas destroy map-reduce), functions (--function_name F) or buckets (--bucket B, ' +
        '--run-bucket).',
    })
  return {functions: names, repositories: [], tables: [], queues: []}
}

/** Functions, then their roles, then (only when asked) repositories. Idempotent: what is gone is 'absent'. */
export async function destroy(
  target: Target,
  plan: {functions: string[]; repositories: string[]; api?: string},
  options: {roles: boolean; repositories: boolean},
  emit: Emit,
): Promise<DestroyOutcome[]> {
  const api = plan.api && target.destroyApi ? [await target.destroyApi(plan.api, emit)] : []
  const outcomes = [...api, ...(await target.destroy(plan.functions, {roles: options.roles}, emit))]
  if (options.repositories && plan.repositories.length > 0) {
    if (!target.destroyRepositories)
      emit({kind: 'warn', subject: 'destroy', message: `the ${target.kind} target has no repositories to delete`})
    else outcomes.push(...(await target.destroyRepositories(plan.repositories, emit)))
  }
  return outcomes
}
