// The deploy service over a recording Target: specs from flags and from a benchmark manifest
// (wiring, defaults, overrides), validation before any write, bounded concurrency, one error.
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {resolvePolicies} from '../../src/core/policies.js'
import {loadSettings} from '../../src/core/settings.js'
import {deploy, planDeploy, type SingleDeploy} from '../../src/services/deploy.js'
import type {DeployOutcome, FunctionSpec, Target} from '../../src/targets/target.js'

const settings = loadSettings({AWS_REGION: 'us-east-1', AWS_ACCOUNT_ID: '123456789012', FAAS_PLATFORM: 'linux/arm64'})

/** A target that records what it is asked to deploy; deploys take one macrotask each. */
function recordingTarget(
  kind: 'aws' | 'local' = 'aws',
  fail: (spec: FunctionSpec) => Error | undefined = () => undefined,
) {
  const deployed: FunctionSpec[] = []
  let inFlight = 0
  let maxInFlight = 0
  const target: Target & {deployed: FunctionSpec[]; maxInFlight: () => number} = {
    kind,
    deployed,
    maxInFlight: () => maxInFlight,
    async deploy(spec): Promise<DeployOutcome> {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      const error = fail(spec)
      if (error) throw error
      deployed.push(spec)
      return {name: spec.name, action: 'created', changed: ['function']}
    },
    invoke: async () => {
      throw new Error('not used')
    },
    describe: async () => undefined,
    ensureTables: async () => {
      throw new Error('not used')
    },
    destroyTables: async () => {
      throw new Error('not used')
    },
    destroyQueues: async () => {
      throw new Error('not used')
    },
    reconfigure: async () => {
      throw new Error('not used')
    },
    destroy: async () => [],
  }
  return target
}

test("the seed's form: ECR URI of the account, seed defaults, arm64 from FAAS_PLATFORM", async () => {
  const specs = await planDeploy(recordingTarget(), settings, {
    repository: 'newfunc',
    tag: 'latest',
    functionName: 'NewFuncLambda',
    policies: ['access_s3'],
    env: {IS_LAMBDA: 'true'},
  })
  assert.equal(specs, [
    {
      name: 'NewFuncLambda',
      image: {uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/newfunc:latest', architecture: 'arm64'},
      handler: undefined,
      memoryMb: 1024,
      timeoutS: 120,
      env: {IS_LAMBDA: 'true'},
      policies: resolvePolicies(['access_s3']),
      role: undefined,
      reservedConcurrency: undefined,
      ephemeralStorageMb: 512,
      logFormat: 'Text',
    },
  ])
})

test('a benchmark: one spec per function, wired env, manifest memory/timeout, flags override', async () => {
  const target = recordingTarget()
  const result = await deploy(
    target,
    settings,
    {benchmark: 'map-reduce', tag: 'v2', architecture: 'x86_64', timeoutS: 60},
    () => {},
  )
  assert.equal(
    result.functions.map((f) => f.name),
    ['map-reduce-driver', 'map-reduce-mapper', 'map-reduce-reducer'],
  )
  const driver = target.deployed.find((s) => s.name === 'map-reduce-driver')!
  assert.is(driver.image.uri, '123456789012.dkr.ecr.us-east-1.amazonaws.com/map-reduce-driver:v2')
  assert.is(driver.image.architecture, 'x86_64')
  assert.is(driver.env.MAPPER_FUNCTION, 'map-reduce-mapper')
  assert.is(driver.env.REDUCER_FUNCTION, 'map-reduce-reducer')
  assert.equal(
    driver.policies.map((p) => p.name),
    ['access_s3', 'invoke_function'],
    'bundles are resolved in planning',
  )
  assert.is(driver.memoryMb, 512)
  assert.is(driver.timeoutS, 60)
})

test('ephemeral storage and log format: flags, else 512 MB and Text', async () => {
  const request = {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: [], env: {}}
  const [plain] = await planDeploy(recordingTarget(), settings, request)
  assert.is(plain!.ephemeralStorageMb, 512)
  assert.is(plain!.logFormat, 'Text')
  const [set] = await planDeploy(recordingTarget(), settings, {
    ...request,
    ephemeralStorageMb: 10_240,
    logFormat: 'JSON',
  })
  assert.is(set!.ephemeralStorageMb, 10_240)
  assert.is(set!.logFormat, 'JSON')
})

test('the local target without a registry deploys bare engine references', async () => {
  const specs = await planDeploy(recordingTarget('local'), loadSettings({}), {
    benchmark: 'map-reduce',
    tag: 'latest',
    functions: ['mapper'],
  })
  assert.equal(
    specs.map((s) => s.image.uri),
    ['map-reduce-mapper:latest'],
  )
})

test('bad input is refused before any deploy starts', async () => {
  const target = recordingTarget()
  const bad: SingleDeploy[] = [
    {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: ['nope'], env: {}},
    {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: [], env: {}, memoryMb: 64},
    {repository: 'Bad_Repo', tag: 'latest', functionName: 'F', policies: [], env: {}},
    {repository: 'newfunc', tag: '-x', functionName: 'F', policies: [], env: {}},
    {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: [], env: {LAMBDA_TASK_ROOT: '/x'}},
    {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: [], env: {}, ephemeralStorageMb: 256},
    {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: [], env: {}, ephemeralStorageMb: 20_000},
    {repository: 'newfunc', tag: 'latest', functionName: 'F', policies: [], env: {}, logFormat: 'Yaml' as 'JSON'},
  ]
  for (const request of bad) {
    const error = await deploy(target, settings, request, () => {}).catch((e) => e)
    assert.instance(error, UserError)
  }
  assert.is(target.deployed.length, 0)
})

test('functions deploy concurrently up to the limit; failures come back as one error naming them', async () => {
  const target = recordingTarget('aws', (spec) =>
    spec.name === 'map-reduce-driver' ? new UserError('driver broke.', {fix: 'Fix the driver.'}) : undefined,
  )
  const error = await deploy(target, settings, {benchmark: 'map-reduce', tag: 'v1', concurrency: 2}, () => {}).catch(
    (e) => e,
  )
  assert.instance(error, UserError)
  assert.is(error.paragraph, '1 of 3 functions failed to deploy: map-reduce-driver: driver broke. Fix the driver.')
  assert.is(target.maxInFlight(), 2)
  assert.equal(target.deployed.map((s) => s.name).sort(), ['map-reduce-mapper', 'map-reduce-reducer'])
})

test.run()
