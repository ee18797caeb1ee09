import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  InvokeCommand,
  paginateListFunctions,
  PutFunctionConcurrencyCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda'

import {UserError, messageOf} from '../core/errors.js'
import {parseReport} from '../core/report.js'
import type {FunctionState, InvokeOutcome, InvokeRequest, LogFormat} from '../core/invoke.js'
import {aws, awsUserError} from './errors.js'
import {streamedInvoke, type InvokeAnswer} from './invoke-stream.js'

/**
 * The narrow Lambda adapter: only the calls faas makes. The invoke helper speaks the Lambda Invoke
 * API, so it serves both AWS and the local service (a LambdaClient with an endpoint override).
 * Throttling of control-plane calls is retried by the SDK's own strategy (the clients' maxAttempts);
 * what the SDK cannot know is waited for here: IAM propagation and an update in progress.
 */

export type {FunctionState} from '../core/invoke.js'

/** How the waits faas adds are retried; injected so tests need not wait. Delays back off, they are not fixed sleeps. */
export interface RetryPolicy {
  attempts: number
  delayMs: (attempt: number) => number
  sleep: (ms: number) => Promise<void>
}

export const defaultRetry: RetryPolicy = {
  attempts: 10,
  // 0.5 s, 1 s, 2 s, 4 s, then 5 s: about 35 s in all, the usual bound of IAM propagation.
  delayMs: (attempt) => Math.min(500 * 2 ** attempt, 5000),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

/**
 * Waiter bounds in seconds (Active after create, Successful after an update). A service on this machine settles in
 * tenths of a second (its first sandbox prepared), where the SDK's one-second first delay would be most of the wait;
 * and its answers cost a millisecond, so polls stay 0.1 s apart at most (the SDK's jittered doubling would otherwise
 * wait up to 0.4–0.8 s past a state reached after 0.3 s).
 */
export async function waitBounds(
  lambda: LambdaClient,
): Promise<{minDelay: number; maxDelay: number; maxWaitTime: number}> {
  const endpoint = await lambda.config.endpoint?.()
  const onThisMachine = ['127.0.0.1', 'localhost', '[::1]'].includes(endpoint?.hostname ?? '')
  return onThisMachine
    ? {minDelay: 0.05, maxDelay: 0.1, maxWaitTime: 600}
    : {minDelay: 1, maxDelay: 5, maxWaitTime: 600}
}

type AwsError = {name?: string; message?: string}

/** The role was just created and Lambda cannot assume it yet (IAM is eventually consistent). */
export const isRolePropagation = (e: AwsError): boolean =>
  e?.name === 'InvalidParameterValueException' &&
  // The last: an event source mapping's role whose new SQS actions Lambda does not see yet.
  /cannot be assumed|role defined for the function|execution role does not have permissions/i.test(e.message ?? '')
/** Another update of the function is still in progress. */
export const isUpdateInProgress = (e: AwsError): boolean =>
  e?.name === 'ResourceConflictException' && !isAlreadyCreated(e)
/** CreateFunction found the function there: its earlier answer was lost, or another deploy created it first. */
export const isAlreadyCreated = (e: AwsError): boolean =>
  e?.name === 'ResourceConflictException' && /already exist/i.test(e.message ?? '')
export const isThrottled = (e: AwsError): boolean => /TooManyRequests|Throttl|RequestLimitExceeded/i.test(e?.name ?? '')

const throttledError = (action: string, error: unknown) =>
  new UserError(`AWS kept throttling the request to ${action} (${(error as AwsError).name}).`, {
    code: 'THROTTLED',
    fix: "Deploy fewer functions at once (--concurrency) or retry in a minute; check the account's Lambda API limits.",
    cause: error,
  })

/**
 * Runs a Lambda call, waiting out what the SDK does not retry: IAM propagation (when allowed) and an
 * update in progress (after waiting for the function to settle). Throttling the SDK already retried
 * (maxAttempts) and exhausted retries become UserErrors that say what to do.
 */
export async function withRetries<T>(
  lambda: LambdaClient,
  action: string,
  fn: string,
  call: () => Promise<T>,
  retry: RetryPolicy,
  options: {rolePropagation?: boolean} = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await aws(action, call)
    } catch (error) {
      const e = error as AwsError
      const last = attempt + 1 >= retry.attempts
      if (isThrottled(e)) {
        throw throttledError(action, error)
      } else if (options.rolePropagation && isRolePropagation(e)) {
        if (last && /execution role does not have permissions/i.test(e.message ?? ''))
          throw new UserError(`The role of ${fn} still lacks what Lambda needs for ${action}: ${e.message}`, {
            code: 'ROLE_MISSING_ACTIONS',
            fix:
              'Give it sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on the queue (faas does so ' +
              'for roles it made; a role named with --role is used as it is), then deploy again.',
            cause: error,
          })
        if (last)
          throw new UserError(
            `Lambda still cannot assume the role of ${fn} after ${retry.attempts} tries: ${e.message}`,
            {
              code: 'ROLE_NOT_ASSUMABLE',
              fix: 'Check that the role trusts lambda.amazonaws.com (faas creates it so), then deploy again.',
              cause: error,
            },
          )
      } else if (isUpdateInProgress(e)) {
        if (last)
          throw new UserError(`${fn} stayed busy with another update: ${e.message}`, {
            code: 'UPDATE_IN_PROGRESS',
            fix:
              'Wait for the other update (another faas deploy, the console or CloudFormation) to finish, then ' +
              'deploy again.',
            cause: error,
          })
        await waitUpdated(lambda, fn)
        continue
      } else {
        throw error
      }
      await retry.sleep(retry.delayMs(attempt))
    }
  }
}

type WaitedConfiguration = {State?: string; StateReason?: string; LastUpdateStatusReason?: string}

/**
 * The last GetFunction configuration a failed waiter saw: the SDK's waiters throw it as the JSON of their message
 * ({state, reason}); older ones attached it as `result`.
 */
export function failedConfiguration(error: unknown): WaitedConfiguration | undefined {
  type Result = {reason?: {Configuration?: WaitedConfiguration}}
  const e = error as {result?: Result; message?: string}
  if (e?.result) return e.result.reason?.Configuration
  try {
    return (JSON.parse(e?.message ?? '') as Result).reason?.Configuration
  } catch {
    return undefined
  }
}

async function waitFor(kind: 'Active' | 'Updated', lambda: LambdaClient, name: string): Promise<void> {
  const waiter = kind === 'Active' ? waitUntilFunctionActiveV2 : waitUntilFunctionUpdatedV2
  try {
    await waiter({client: lambda, ...(await waitBounds(lambda))}, {FunctionName: name})
  } catch (error) {
    const config = failedConfiguration(error)
    const reason = config?.StateReason ?? config?.LastUpdateStatusReason
    throw new UserError(
      `${name} did not become ${kind === 'Active' ? 'active' : 'updated'}` +
        `${reason ? `: ${reason}` : ` (${messageOf(error)})`}.`,
      {
        code: 'FUNCTION_FAILED',
        fix:
          'An arm64 image needs --arch arm64 (and x86_64 an amd64 image); check the image runs (faas invoke ' +
          '--target local) and that its tag was pushed.',
        cause: error,
      },
    )
  }
}

export const waitActive = (lambda: LambdaClient, name: string) => waitFor('Active', lambda, name)
export const waitUpdated = (lambda: LambdaClient, name: string) => waitFor('Updated', lambda, name)

export async function getFunction(lambda: LambdaClient, name: string): Promise<FunctionState | undefined> {
  const out = await aws(`read function ${name} (lambda:GetFunction)`, () =>
    lambda.send(new GetFunctionCommand({FunctionName: name})).catch((error: AwsError) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
  if (!out?.Configuration) return undefined
  const c = out.Configuration
  return {
    arn: c.FunctionArn!,
    role: c.Role!,
    imageUri: out.Code?.ImageUri,
    architectures: c.Architectures ?? ['x86_64'],
    memoryMb: c.MemorySize ?? 128,
    timeoutS: c.Timeout ?? 3,
    env: c.Environment?.Variables ?? {},
    command: c.ImageConfigResponse?.ImageConfig?.Command,
    reservedConcurrency: out.Concurrency?.ReservedConcurrentExecutions,
    ephemeralStorageMb: c.EphemeralStorage?.Size ?? 512,
    logFormat: c.LoggingConfig?.LogFormat === 'JSON' ? 'JSON' : 'Text',
    state: c.State,
    tags: out.Tags ?? {},
  }
}

export interface ImageFunctionConfig {
  name: string
  roleArn: string
  imageUri: string
  architecture: 'arm64' | 'x86_64'
  memoryMb: number
  timeoutS: number
  env: Record<string, string>
  /** ImageConfig.Command; undefined keeps the image's CMD. */
  command?: string[]
  tags?: Record<string, string>
  /** EphemeralStorage.Size (/tmp) in MB; Lambda's 512 when absent. */
  ephemeralStorageMb?: number
  /** LoggingConfig.LogFormat; Lambda's Text when absent. */
  logFormat?: LogFormat
}

/**
 * CreateFunction (PackageType Image), retrying while a new role propagates, then waits for Active.
 * Undefined when the function already exists (a create whose answer was lost, two deploys racing):
 * the caller then converges by updating it like any existing function.
 */
export async function createFunction(
  lambda: LambdaClient,
  config: ImageFunctionConfig,
  retry: RetryPolicy = defaultRetry,
): Promise<string | undefined> {
  const out = await withRetries(
    lambda,
    `create function ${config.name} (lambda:CreateFunction)`,
    config.name,
    () =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: config.name,
          Role: config.roleArn,
          PackageType: 'Image',
          Code: {ImageUri: config.imageUri},
          Architectures: [config.architecture],
          MemorySize: config.memoryMb,
          Timeout: config.timeoutS,
          Environment: {Variables: config.env},
          ImageConfig: config.command ? {Command: config.command} : undefined,
          Tags: config.tags,
          EphemeralStorage: config.ephemeralStorageMb === undefined ? undefined : {Size: config.ephemeralStorageMb},
          LoggingConfig: config.logFormat === undefined ? undefined : {LogFormat: config.logFormat},
        }),
      ),
    retry,
    {rolePropagation: true},
  ).catch((error: unknown) => {
    if (isAlreadyCreated(error as AwsError)) return undefined
    throw error
  })
  await waitActive(lambda, config.name)
  return out?.FunctionArn
}

/** UpdateFunctionCode (image and architecture go together), then waits for the update. */
export async function updateCode(
  lambda: LambdaClient,
  name: string,
  imageUri: string,
  architecture: 'arm64' | 'x86_64',
  retry: RetryPolicy = defaultRetry,
): Promise<void> {
  await withRetries(
    lambda,
    `update the image of ${name} (lambda:UpdateFunctionCode)`,
    name,
    () =>
      lambda.send(
        new UpdateFunctionCodeCommand({FunctionName: name, ImageUri: imageUri, Architectures: [architecture]}),
      ),
    retry,
  )
  await waitUpdated(lambda, name)
}

export type ConfigChange = Partial<
  Pick<ImageFunctionConfig, 'roleArn' | 'memoryMb' | 'timeoutS' | 'env' | 'ephemeralStorageMb' | 'logFormat'>
> & {command?: string[] | null}

/** UpdateFunctionConfiguration with only the fields given, then waits for the update. */
export async function updateConfiguration(
  lambda: LambdaClient,
  name: string,
  change: ConfigChange,
  retry: RetryPolicy = defaultRetry,
): Promise<void> {
  await withRetries(
    lambda,
    `update the configuration of ${name} (lambda:UpdateFunctionConfiguration)`,
    name,
    () =>
      lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: name,
          Role: change.roleArn,
          MemorySize: change.memoryMb,
          Timeout: change.timeoutS,
          Environment: change.env ? {Variables: change.env} : undefined,
          // An empty Command restores the image's own CMD.
          ImageConfig: change.command === undefined ? undefined : {Command: change.command ?? []},
          EphemeralStorage: change.ephemeralStorageMb === undefined ? undefined : {Size: change.ephemeralStorageMb},
          LoggingConfig: change.logFormat === undefined ? undefined : {LogFormat: change.logFormat},
        }),
      ),
    retry,
    {rolePropagation: true},
  )
  await waitUpdated(lambda, name)
}

/** Reserved concurrency: a number reserves it, undefined removes the reservation. */
export async function setReservedConcurrency(
  lambda: LambdaClient,
  name: string,
  reserved: number | undefined,
  retry: RetryPolicy = defaultRetry,
): Promise<void> {
  await withRetries(
    lambda,
    `set the reserved concurrency of ${name} (lambda:PutFunctionConcurrency)`,
    name,
    () =>
      reserved === undefined
        ? lambda.send(new DeleteFunctionConcurrencyCommand({FunctionName: name}))
        : lambda.send(new PutFunctionConcurrencyCommand({FunctionName: name, ReservedConcurrentExecutions: reserved})),
    retry,
  )
}

/** Role ARNs of all functions in the region (to keep roles other functions still use). */
export async function listFunctionRoles(lambda: LambdaClient): Promise<Map<string, string[]>> {
  const roles = new Map<string, string[]>()
  await aws('list functions (lambda:ListFunctions)', async () => {
    for await (const page of paginateListFunctions({client: lambda}, {})) {
      for (const f of page.Functions ?? [])
        if (f.Role) roles.set(f.Role, [...(roles.get(f.Role) ?? []), f.FunctionName!])
    }
  })
  return roles
}

export async function deleteFunction(
  lambda: LambdaClient,
  name: string,
  retry: RetryPolicy = defaultRetry,
): Promise<'deleted' | 'absent'> {
  return withRetries(
    lambda,
    `delete function ${name} (lambda:DeleteFunction)`,
    name,
    () =>
      lambda.send(new DeleteFunctionCommand({FunctionName: name})).then(
        () => 'deleted' as const,
        (error: AwsError) => {
          if (error?.name === 'ResourceNotFoundException') return 'absent' as const
          throw error
        },
      ),
    retry,
  )
}

/** Tries again only a call that provably never reached the function: the connection was refused. */
export const refusedRetry: RetryPolicy = {
  attempts: 3,
  delayMs: (attempt) => 100 * 2 ** attempt,
  sleep: defaultRetry.sleep,
}

const connectionRefused = (error: unknown): boolean => (error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED'

/**
 * Invokes a function once through the Lambda Invoke API and reads what came back: payload, function
 * error (X-Amz-Function-Error), decoded 4 KB log tail and its REPORT figures, and timings. Invoking
 * is not idempotent: `lambda` must make one attempt per call (invokeClient), and only a refused
 * connection, which sent nothing, is tried again. A throttle is an error, as it happened.
 */
export async function invoke(
  lambda: LambdaClient,
  request: InvokeRequest,
  refused: RetryPolicy = refusedRetry,
): Promise<InvokeOutcome> {
  const action = `invoke ${request.name} (lambda:InvokeFunction)`
  const input = {
    FunctionName: request.name,
    Payload: Buffer.from(request.payload, 'utf8'),
    InvocationType: request.invocationType ?? 'RequestResponse',
    LogType: request.logTail ? ('Tail' as const) : ('None' as const),
  }
  for (let attempt = 0; ; attempt++) {
    const startedAtUs = Math.round((performance.timeOrigin + performance.now()) * 1000)
    const t0 = performance.now()
    try {
      const out: InvokeAnswer = request.onChunk
        ? await streamedInvoke(lambda, input, request.onChunk)
        : await lambda.send(new InvokeCommand(input))
      const clientLatencyUs = Math.round((performance.now() - t0) * 1000)
      const log = out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : undefined
      return {
        name: request.name,
        statusCode: out.StatusCode ?? 0,
        requestId: out.$metadata?.requestId,
        payload: out.Payload ? Buffer.from(out.Payload).toString('utf8') : '',
        functionError: out.FunctionError,
        log,
        report: log ? parseReport(log) : undefined,
        startedAtUs,
        clientLatencyUs,
      }
    } catch (error) {
      if (connectionRefused(error) && attempt + 1 < refused.attempts) {
        await refused.sleep(refused.delayMs(attempt))
        continue
      }
      if ((error as AwsError)?.name === 'ResourceNotFoundException') {
        throw new UserError(`There is no function ${request.name}.`, {
          code: 'NO_FUNCTION',
          fix: 'Deploy it first: faas deploy <benchmark>, or faas deploy --repo_name R --function_name F.',
          cause: error,
        })
      }
      if (isThrottled(error as AwsError)) {
        throw new UserError(
          `Lambda throttled the call to ${request.name} (${(error as AwsError).name}); the function did not run.`,
          {
            code: 'THROTTLED',
            fix: "Call again later, or raise the function's reserved concurrency (or the account's concurrency limit).",
            cause: error,
          },
        )
      }
      throw awsUserError(error, action)
    }
  }
}
