// deploy --publish --provisioned on AWS: moto (5.1) has no provisioned concurrency calls at all, so this side is
// tested with SDK client mocks: a configuration that settles READY, one left as it is (idempotent), one that FAILS
// with Lambda's reason, one stuck IN_PROGRESS past the wait, and throttling that outlasted the SDK's retries.
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda'
import {mockClient} from 'aws-sdk-client-mock'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {publishAndAlias} from '../../src/aws/lambda-versions.js'
import {UserError} from '../../src/core/errors.js'

const lambdaMock = mockClient(LambdaClient)
const lambda = new LambdaClient({region: 'us-east-1', credentials: {accessKeyId: 'a', secretAccessKey: 'b'}})
const awsError = (name: string, message: string, status = 400) =>
  Object.assign(new Error(message), {name, $fault: 'client', $metadata: {httpStatusCode: status}})
const notFound = (name: string) => awsError(name, 'not found', 404)

/** A function with version 1 published and alias live on it; provisioned concurrency answers as `config` says. */
function published(config: () => object | Error) {
  lambdaMock.reset()
  lambdaMock.on(ListVersionsByFunctionCommand).resolves({Versions: [{Version: '$LATEST'}, {Version: '1'}]})
  lambdaMock.on(PublishVersionCommand).resolves({Version: '1'})
  lambdaMock.on(GetFunctionCommand).resolves({Configuration: {State: 'Active', LastUpdateStatus: 'Successful'}})
  lambdaMock.on(GetAliasCommand).resolves({Name: 'live', FunctionVersion: '1', RoutingConfig: {}})
  lambdaMock.on(CreateAliasCommand).rejects(new Error('the alias exists: nothing is created'))
  lambdaMock.on(GetProvisionedConcurrencyConfigCommand).callsFake(async () => {
    const answer = config()
    if (answer instanceof Error) throw answer
    return answer
  })
}

const puts = () => lambdaMock.commandCalls(PutProvisionedConcurrencyConfigCommand).map((c) => c.args[0].input)

test('READY: set on the alias once; asked again with the same number, nothing is written', async () => {
  let reads = 0
  let config: object | Error = notFound('ProvisionedConcurrencyConfigNotFoundException')
  published(() => (reads++ < 2 ? config : {RequestedProvisionedConcurrentExecutions: 3, Status: 'READY'}))
  lambdaMock.on(PutProvisionedConcurrencyConfigCommand).callsFake(async () => {
    config = {RequestedProvisionedConcurrentExecutions: 3, Status: 'IN_PROGRESS'}
    return {Status: 'IN_PROGRESS'}
  })
  const first = await publishAndAlias(lambda, 'fn', {alias: 'live', provisioned: 3}, {provisionWaitMs: 10_000})
  assert.equal(first.provisioned, {qualifier: 'live', requested: 3, status: 'READY', action: 'updated'})
  assert.equal(puts(), [{FunctionName: 'fn', Qualifier: 'live', ProvisionedConcurrentExecutions: 3}])
  const again = await publishAndAlias(lambda, 'fn', {alias: 'live', provisioned: 3}, {provisionWaitMs: 10_000})
  assert.equal(again.provisioned, {qualifier: 'live', requested: 3, status: 'READY', action: 'unchanged'})
  assert.is(puts().length, 1, 'no second PutProvisionedConcurrencyConfig')
})

test('FAILED: one paragraph with Lambda reason and the fix', async () => {
  published(() => ({
    RequestedProvisionedConcurrentExecutions: 2,
    Status: 'FAILED',
    StatusReason: 'FUNCTION_ERROR_INIT_FAILURE',
  }))
  lambdaMock.on(PutProvisionedConcurrencyConfigCommand).resolves({Status: 'IN_PROGRESS'})
  try {
    await publishAndAlias(lambda, 'fn', {alias: 'live', provisioned: 3}, {provisionWaitMs: 10_000})
    assert.unreachable('a FAILED configuration was accepted')
  } catch (error) {
    assert.instance(error, UserError)
    assert.is((error as UserError).code, 'PROVISIONING_FAILED')
    assert.match((error as UserError).paragraph, /fn:live FAILED: FUNCTION_ERROR_INIT_FAILURE\. Fix the init error/)
  }
})

test('stuck IN_PROGRESS past the wait: deploy returns, saying IN_PROGRESS (Lambda keeps provisioning)', async () => {
  published(() => ({RequestedProvisionedConcurrentExecutions: 3, Status: 'IN_PROGRESS'}))
  lambdaMock.on(PutProvisionedConcurrencyConfigCommand).resolves({Status: 'IN_PROGRESS'})
  const started = Date.now()
  const out = await publishAndAlias(lambda, 'fn', {alias: 'live', provisioned: 3}, {provisionWaitMs: 300})
  assert.equal(out.provisioned, {qualifier: 'live', requested: 3, status: 'IN_PROGRESS', action: 'unchanged'})
  assert.ok(Date.now() - started < 10_000, 'the wait ends')
})

test('throttling that outlasted the SDK retries: THROTTLED in one paragraph naming the call, no stack', async () => {
  published(() => notFound('ProvisionedConcurrencyConfigNotFoundException'))
  lambdaMock
    .on(PutProvisionedConcurrencyConfigCommand)
    .rejects(awsError('TooManyRequestsException', 'Rate exceeded', 429))
  try {
    await publishAndAlias(lambda, 'fn', {alias: 'live', provisioned: 1}, {provisionWaitMs: 300})
    assert.unreachable('a throttled call was accepted')
  } catch (error) {
    assert.instance(error, UserError)
    assert.is((error as UserError).code, 'THROTTLED')
    assert.match(
      (error as UserError).paragraph,
      /throttling the request to set the provisioned concurrency of fn:live \(lambda:PutProvisionedConcurrencyConfig\) \(TooManyRequestsException\)\. Run the command again/,
    )
  }
})

test.after(() => lambdaMock.restore())
test.run()
