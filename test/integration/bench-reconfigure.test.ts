import {CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {ECRClient} from '@aws-sdk/client-ecr'
import {CreateRoleCommand, DeleteRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {reconfigurerOf} from '../../src/bench/reconfigure.js'
import {AwsTarget} from '../../src/targets/aws.js'

/**
 * Memory sweeps and forced cold starts change real functions through Target.describe/reconfigure: checked against the
 * moto emulator.
 */
const endpoint = process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050'
const config = {endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}

test('reconfigure sets memory, merges env, and restore puts both back', async () => {
  const iam = new IAMClient(config)
  const lambda = new LambdaClient(config)
  const name = `bench-reconf-${process.pid}`
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: `${name}-role`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
      }),
    }),
  )
  try {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: role.Role!.Arn,
        PackageType: 'Image',
        Code: {ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:latest'},
        MemorySize: 256,
        Environment: {Variables: {APP: 'one'}},
      }),
    )
    const read = async () => (await lambda.send(new GetFunctionCommand({FunctionName: name}))).Configuration!
    const r = reconfigurerOf(new AwsTarget({clients: {lambda, invoker: lambda, iam, ecr: new ECRClient(config)}}))
    await r.reconfigure(name, {memoryMb: 1769})
    assert.is((await read()).MemorySize, 1769)
    assert.equal((await read()).Environment?.Variables, {APP: 'one'})
    await r.reconfigure(name, {env: {FAAS_BENCH_COLD_START: 'round-1'}})
    assert.equal((await read()).Environment?.Variables, {APP: 'one', FAAS_BENCH_COLD_START: 'round-1'})
    await r.restore()
    assert.is((await read()).MemorySize, 256)
    assert.equal((await read()).Environment?.Variables, {APP: 'one'})
    try {
      await r.reconfigure(`${name}-absent`, {memoryMb: 512})
      assert.unreachable()
    } catch (error) {
      assert.is((error as {code?: string}).code, 'UNKNOWN_FUNCTION')
    }
  } finally {
    await lambda.send(new DeleteFunctionCommand({FunctionName: name})).catch(() => undefined)
    await iam.send(new DeleteRoleCommand({RoleName: `${name}-role`})).catch(() => undefined)
  }
})

test.run()
