// Error paths a real peer (moto) cannot produce on demand, with SDK client mocks: IAM propagation
// delay, an update already in progress, throttling, refused and reset connections, AccessDenied; and invoke's reading
// of Lambda's
// answer (log tail, REPORT, X-Amz-Function-Error) down to the command's exit code.
import {ECRClient} from '@aws-sdk/client-ecr'
import {GetRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import {mockClient} from 'aws-sdk-client-mock'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {createSqsMapping} from '../../src/aws/event-sources.js'
import {createFunction, invoke, updateConfiguration, type RetryPolicy} from '../../src/aws/lambda.js'
import {UserError} from '../../src/core/errors.js'
import {PROJECT_ROOT} from '../../src/core/paths.js'
import {resolvePolicies} from '../../src/core/policies.js'
import {AwsTarget} from '../../src/targets/aws.js'

const lambdaMock = mockClient(LambdaClient)
const iamMock = mockClient(IAMClient)
const lambda = new LambdaClient({region: 'us-east-1', credentials: {accessKeyId: 'a', secretAccessKey: 'b'}})
const iam = new IAMClient({region: 'us-east-1', credentials: {accessKeyId: 'a', secretAccessKey: 'b'}})

/** A retry policy that records the delays it was asked for instead of sleeping. */
function recordingRetry(attempts = 5): RetryPolicy & {slept: number[]} {
  const slept: number[] = []
  return {attempts, delayMs: (n) => 100 * 2 ** n, sleep: async (ms) => void slept.push(ms), slept}
}

const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), {name, $fault: 'client', $metadata: {httpStatusCode: 400}})

const config = {
  name: 'fn',
  roleArn: 'arn:aws:iam::123456789012:role/fn-role',
  imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:' + 'a'.repeat(64),
  architecture: 'arm64' as const,
  memoryMb: 1024,
  timeoutS: 120,
  env: {},
}
const active = {
  Configuration: {
    FunctionName: 'fn',
    FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
    State: 'Active' as const,
    LastUpdateStatus: 'Successful' as const,
  },
}

const savedEnv = {...process.env}

test.before.each(() => {
  lambdaMock.reset()
  iamMock.reset()
})

// uvu runs every file in one process: leave no mocked prototype or env behind.
test.after(() => {
  lambdaMock.restore()
  iamMock.restore()
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
  Object.assign(process.env, savedEnv)
})

test('create retries while the new role propagates, with growing delays, then waits for Active', async () => {
  const propagation = awsError(
    'InvalidParameterValueException',
    'The role defined for the function cannot be assumed by Lambda.',
  )
  lambdaMock
    .on(CreateFunctionCommand)
    .rejectsOnce(propagation)
    .rejectsOnce(propagation)
    .resolves({FunctionArn: active.Configuration.FunctionArn})
  lambdaMock.on(GetFunctionCommand).resolves(active)
  const retry = recordingRetry()
  const arn = await createFunction(lambda, config, retry)
  assert.is(arn, active.Configuration.FunctionArn)
  assert.is(lambdaMock.commandCalls(CreateFunctionCommand).length, 3)
  assert.equal(retry.slept, [100, 200])
  assert.is(lambdaMock.commandCalls(GetFunctionCommand).length, 1, 'the Active waiter polled')
})

test('CreateFunction finding the function there (lost answer, racing deploy) waits for Active, says so', async () => {
  lambdaMock.on(CreateFunctionCommand).rejects(awsError('ResourceConflictException', 'Function already exist: fn'))
  lambdaMock.on(GetFunctionCommand).resolves(active)
  const retry = recordingRetry()
  assert.is(await createFunction(lambda, config, retry), undefined)
  assert.is(lambdaMock.commandCalls(CreateFunctionCommand).length, 1, 'no retries of a create that cannot succeed')
  assert.equal(retry.slept, [])
})

test('a role that never becomes assumable ends in a clear error after the retries', async () => {
  lambdaMock
    .on(CreateFunctionCommand)
    .rejects(
      awsError('InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.'),
    )
  const retry = recordingRetry(3)
  const error = await createFunction(lambda, config, retry).catch((e) => e)
  assert.instance(error, UserError)
  assert.is(error.code, 'ROLE_NOT_ASSUMABLE')
  assert.match(error.paragraph, 'after 3 tries')
  assert.is(lambdaMock.commandCalls(CreateFunctionCommand).length, 3)
})

test("an SQS mapping whose role lacks the queue's actions: retried while IAM spreads, then what to grant", async () => {
  const denied = 'The provided execution role does not have permissions to call ReceiveMessage on SQS'
  lambdaMock.on(CreateEventSourceMappingCommand).rejects(awsError('InvalidParameterValueException', denied))
  const retry = recordingRetry(3)
  const source = {
    queueArn: 'arn:aws:sqs:us-east-1:123456789012:orders',
    batchSize: 10,
    batchingWindowS: 0,
    reportBatchItemFailures: false,
    enabled: true,
  }
  const error = await createSqsMapping(lambda, 'fn', source, retry).catch((e) => e)
  assert.instance(error, UserError)
  assert.is(error.code, 'ROLE_MISSING_ACTIONS')
  assert.match(error.paragraph, /sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes/)
  assert.is(lambdaMock.commandCalls(CreateEventSourceMappingCommand).length, 3)
  assert.equal(retry.slept, [100, 200])
})

test('ResourceConflictException (update in progress): waits for the function to settle, then updates', async () => {
  lambdaMock
    .on(UpdateFunctionConfigurationCommand)
    .rejectsOnce(
      awsError(
        'ResourceConflictException',
        'The operation cannot be performed at this time. An update is in progress for resource: fn',
      ),
    )
    .resolves({})
  lambdaMock.on(GetFunctionCommand).resolves(active)
  await updateConfiguration(lambda, 'fn', {memoryMb: 2048}, recordingRetry())
  const sequence = lambdaMock.calls().map((c) => c.args[0].constructor.name)
  assert.equal(sequence, [
    'UpdateFunctionConfigurationCommand',
    'GetFunctionCommand',
    'UpdateFunctionConfigurationCommand',
    'GetFunctionCommand',
  ])
  assert.is(
    (lambdaMock.commandCalls(UpdateFunctionConfigurationCommand)[1]!.args[0].input as {MemorySize?: number}).MemorySize,
    2048,
  )
})

test('a throttled control-plane call (the SDK retried it) is an error saying what to do, not retried', async () => {
  lambdaMock.on(UpdateFunctionConfigurationCommand).rejects(awsError('TooManyRequestsException', 'Rate exceeded'))
  const retry = recordingRetry(3)
  const error = await updateConfiguration(lambda, 'fn', {memoryMb: 2048}, retry).catch((e) => e)
  assert.instance(error, UserError)
  assert.is(error.code, 'THROTTLED')
  assert.match(error.paragraph, /kept throttling .*update the configuration of fn.*retry/)
  assert.is(lambdaMock.commandCalls(UpdateFunctionConfigurationCommand).length, 1)
  assert.equal(retry.slept, [])
})

test('invoke is one attempt: a throttle is an error at once, saying the function did not run', async () => {
  lambdaMock.on(InvokeCommand).rejects(awsError('TooManyRequestsException', 'Rate exceeded'))
  const retry = recordingRetry(3)
  const error = await invoke(lambda, {name: 'fn', payload: '{}'}, retry).catch((e) => e)
  assert.instance(error, UserError)
  assert.is(error.code, 'THROTTLED')
  assert.match(error.paragraph, /throttled the call to fn .*did not run/)
  assert.is(lambdaMock.commandCalls(InvokeCommand).length, 1)
  assert.equal(retry.slept, [])
})

const networkError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9`), {code})

test('invoke retries a refused connection (nothing sent), never a reset one (the function may have run)', async () => {
  lambdaMock
    .on(InvokeCommand)
    .rejectsOnce(networkError('ECONNREFUSED'))
    .resolves({StatusCode: 200, Payload: Buffer.from('{}') as never})
  const retry = recordingRetry(3)
  const outcome = await invoke(lambda, {name: 'fn', payload: '{}'}, retry)
  assert.is(outcome.statusCode, 200)
  assert.is(lambdaMock.commandCalls(InvokeCommand).length, 2)
  assert.equal(retry.slept, [100])

  lambdaMock.reset()
  lambdaMock.on(InvokeCommand).rejectsOnce(networkError('ECONNRESET')).resolves({StatusCode: 200})
  const reset = await invoke(lambda, {name: 'fn', payload: '{}'}, recordingRetry(3)).catch((e) => e)
  assert.match(String(reset.message), 'ECONNRESET')
  assert.is(lambdaMock.commandCalls(InvokeCommand).length, 1)

  lambdaMock.reset()
  lambdaMock.on(InvokeCommand).rejects(networkError('ECONNREFUSED'))
  const refused = await invoke(lambda, {name: 'fn', payload: '{}'}, recordingRetry(3)).catch((e) => e)
  assert.is(refused.code, 'AWS_UNREACHABLE')
  assert.is(lambdaMock.commandCalls(InvokeCommand).length, 3)
})

test('AccessDenied names the missing permission, and nothing is written', async () => {
  iamMock
    .on(GetRoleCommand)
    .rejects(
      awsError(
        'AccessDenied',
        'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole on resource: role fn-role',
      ),
    )
  const target = new AwsTarget({
    clients: {iam, lambda, invoker: lambda, ecr: new ECRClient({region: 'us-east-1'})},
    retry: recordingRetry(),
  })
  const spec = {
    name: 'fn',
    image: {uri: config.imageUri, architecture: 'arm64' as const},
    memoryMb: 1024,
    timeoutS: 120,
    env: {},
    policies: resolvePolicies(['access_s3']),
  }
  const error = await target.deploy(spec, () => {}).catch((e) => e)
  assert.instance(error, UserError)
  assert.is(error.code, 'ACCESS_DENIED')
  assert.match(error.paragraph, 'Grant the caller the iam:GetRole permission')
  assert.equal(
    iamMock.calls().map((c) => c.args[0].constructor.name),
    ['GetRoleCommand'],
  )
  assert.is(lambdaMock.calls().length, 0)
})

const LOG =
  'START RequestId: r-1 Version: $LATEST\n[ERROR] boom\nEND RequestId: r-1\nREPORT RequestId: r-1\tDuration: 469.40 ' +
  'ms\tBilled Duration: 500 ms\tMemory Size: 1024 MB\tMax Memory Used: 21 MB\tInit Duration: 100.99 ms\t\n'

test('invoke decodes the 4 KB log tail, parses REPORT and reports X-Amz-Function-Error', async () => {
  lambdaMock.on(InvokeCommand).resolves({
    StatusCode: 200,
    FunctionError: 'Unhandled',
    LogResult: Buffer.from(LOG).toString('base64'),
    Payload: Buffer.from('{"errorMessage":"boom"}') as never,
  })
  const outcome = await invoke(lambda, {name: 'fn', payload: '{"k":1}', logTail: true}, recordingRetry())
  const sent = lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input
  assert.is(sent.LogType, 'Tail')
  assert.is(sent.InvocationType, 'RequestResponse')
  assert.is(Buffer.from(sent.Payload as Uint8Array).toString(), '{"k":1}')
  assert.is(outcome.functionError, 'Unhandled')
  assert.is(outcome.payload, '{"errorMessage":"boom"}')
  assert.match(outcome.log!, '[ERROR] boom')
  assert.equal(outcome.report, {
    requestId: 'r-1',
    durationMs: 469.4,
    billedDurationMs: 500,
    memorySizeMb: 1024,
    maxMemoryUsedMb: 21,
    initDurationMs: 100.99,
  })
  assert.ok(outcome.clientLatencyUs >= 0 && outcome.startedAtUs > 1.7e15)
})

test('Event and DryRun are passed through; an async invoke has no payload or report', async () => {
  lambdaMock.on(InvokeCommand).resolves({StatusCode: 202})
  const outcome = await invoke(lambda, {name: 'fn', payload: '{}', invocationType: 'Event'}, recordingRetry())
  assert.is(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input.InvocationType, 'Event')
  assert.is(outcome.statusCode, 202)
  assert.is(outcome.report, undefined)
})

/** Runs a command in this process (so the mocks apply), capturing stdout and the exit code. */
async function runCommand(id: string, argv: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const {default: Command} = await import(`../../src/commands/${id}.js`)
  const out: string[] = []
  const err: string[] = []
  const saved = {out: process.stdout.write, err: process.stderr.write}
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as never
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as never
  let exitCode = 0
  process.exitCode = undefined
  try {
    await Command.run(argv, PROJECT_ROOT)
    exitCode = Number(process.exitCode ?? 0)
  } catch (error) {
    exitCode = (error as {oclif?: {exit?: number}}).oclif?.exit ?? 99
  } finally {
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    process.exitCode = undefined
  }
  return {exitCode, stdout: out.join(''), stderr: err.join('')}
}

test('faas invoke: a function error is shown as an error with exit 1, with the REPORT figures in --json', async () => {
  Object.assign(process.env, {AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing'})
  lambdaMock.on(InvokeCommand).resolves({
    StatusCode: 200,
    FunctionError: 'Unhandled',
    LogResult: Buffer.from(LOG).toString('base64'),
    Payload: Buffer.from('{"errorMessage":"boom"}') as never,
  })
  const json = await runCommand('invoke', ['--target', 'aws', '--function_name', 'fn', '--log', '--json'])
  assert.is(json.exitCode, 1)
  const result = JSON.parse(json.stdout)
  assert.is(result.error.code, 'FUNCTION_ERROR')
  assert.is(result.report.billedDurationMs, 500)
  assert.match(result.log, 'REPORT RequestId: r-1')
  const human = await runCommand('invoke', ['--target', 'aws', '--function-name', 'fn'])
  assert.is(human.exitCode, 1)
  assert.match(human.stderr, 'Error: fn failed (Unhandled): {"errorMessage":"boom"}')
  assert.match(human.stderr, 'duration 469.4 ms, billed 500 ms, memory 21/1024 MB, init 100.99 ms (cold)')

  lambdaMock.reset()
  lambdaMock.on(InvokeCommand).resolves({
    StatusCode: 200,
    LogResult: Buffer.from(LOG).toString('base64'),
    Payload: Buffer.from('{"ok":true}') as never,
  })
  const ok = await runCommand('invoke', ['--target', 'aws', '-f', 'fn', '--payload', '{"K1":"V1"}'])
  assert.is(ok.exitCode, 0)
  assert.is(ok.stdout.trim(), '{"ok":true}')
})

test.run()
