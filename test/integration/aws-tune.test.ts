// faas tune's AWS side against moto (a server of its own) with the real SDK: the versions per power value (and per call
// with --only-cold-starts) published through UpdateFunctionConfiguration + PublishVersion, the tune-* aliases, $LATEST
// put back, --auto-optimize's alias and the cleanup. moto (5.1) cannot run an image function (it runs only zip
// functions in images it pulls) nor give a REPORT line, so the calls alone are answered in the test: from the
// configuration moto holds for the alias called (its version's memory), a duration that falls with memory, and an Init
// Duration on the first call of each version, as Lambda reports them.
import {CreateRepositoryCommand, ECRClient, PutImageCommand} from '@aws-sdk/client-ecr'
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda'
import {createHash} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import type {InvokeOutcome, InvokeRequest} from '../../src/core/invoke.js'
import {loadSettings} from '../../src/core/settings.js'
import {createTarget} from '../../src/targets/index.js'
import type {RunTarget} from '../../src/targets/target.js'
import {tune, type TuneRequest} from '../../src/tune/tune.js'
import {faas, motoEnv} from '../helpers/cli.js'
import {startMoto} from '../helpers/moto.js'

const moto = await startMoto()
const env = {
  ...motoEnv(),
  AWS_ENDPOINT_URL: moto.url,
  FAAS_TARGET: 'aws',
  FAAS_REGISTRY: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
  FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
}
// The SDK's default credential chain reads the process's environment. uvu imports every file before it runs any
// test: ours is set for our tests only, and restored after them (other files point the env at their own moto).
let savedEnv: NodeJS.ProcessEnv = {}
test.before(() => {
  savedEnv = {...process.env}
  Object.assign(process.env, env)
  delete process.env.FAAS_REGISTRY
})
const config = {
  endpoint: moto.url,
  region: 'us-east-1',
  credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'},
}
const lambda = new LambdaClient(config)
const quiet = () => {}

async function deployed(name: string): Promise<void> {
  const ecr = new ECRClient(config)
  await ecr.send(new CreateRepositoryCommand({repositoryName: name}))
  const digest = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 1000, digest: digest(name)},
    layers: [{mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1000, digest: digest(`${name}-l`)}],
  })
  await ecr.send(new PutImageCommand({repositoryName: name, imageTag: 'v1', imageManifest: manifest}))
  const out = await faas(
    ['deploy', '-n', name, '-t', 'v1', '-f', name, '--arch', 'arm64', '--memory', '640', '--envmap', '{"MINE":"1"}'],
    {env},
  )
  assert.is(out.exitCode, 0, out.stderr)
}

/** The real AWS target against moto, but for Invoke (see the top): answered from the version the alias names. */
async function awsTarget(): Promise<RunTarget & {versionsCalled: string[]}> {
  const real = await createTarget('aws', loadSettings(process.env))
  const versionsCalled: string[] = []
  const invoke = async (request: InvokeRequest): Promise<InvokeOutcome> => {
    const [name, qualifier] = request.name.split(':') as [string, string]
    const c = await lambda.send(new GetFunctionConfigurationCommand({FunctionName: name, Qualifier: qualifier}))
    const cold = !versionsCalled.includes(c.Version!)
    versionsCalled.push(c.Version!)
    const durationMs = 100_000 / c.MemorySize! + versionsCalled.length / 1000
    return {
      name: request.name,
      statusCode: 200,
      payload: 'null',
      report: {
        durationMs,
        billedDurationMs: Math.ceil(durationMs),
        memorySizeMb: c.MemorySize,
        ...(cold ? {initDurationMs: 150} : {}),
      },
      startedAtUs: Date.now() * 1000,
      clientLatencyUs: 1000,
    }
  }
  return new Proxy(real, {
    get: (target, prop) => {
      if (prop === 'invoke') return invoke
      if (prop === 'versionsCalled') return versionsCalled
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as RunTarget & {versionsCalled: string[]}
}

const request = (functionName: string, more: Partial<TuneRequest> = {}): TuneRequest => ({
  functionName,
  powerValues: [128, 1024],
  num: 5,
  payload: '{}',
  strategy: 'speed',
  balancedWeight: 0.5,
  parallel: false,
  discardTopBottom: 0.2,
  autoOptimize: false,
  alias: 'live',
  ...more,
})

const state = async (name: string) => {
  const latest = await lambda.send(new GetFunctionConfigurationCommand({FunctionName: name}))
  const aliases = await lambda.send(new ListAliasesCommand({FunctionName: name}))
  const versions = await lambda.send(new ListVersionsByFunctionCommand({FunctionName: name}))
  return {
    memory: latest.MemorySize,
    env: latest.Environment?.Variables,
    aliases: (aliases.Aliases ?? []).map((a) => a.Name).sort(),
    versions: (versions.Versions ?? []).map((v) => v.Version),
  }
}

test('tune on AWS: a version per power value behind tune-<MB>, --auto-optimize, $LATEST and cleanup', async () => {
  const name = 'tuned-aws'
  await deployed(name)
  const target = await awsTarget()
  const result = await tune(target, request(name, {autoOptimize: true}), quiet)
  assert.is(result.architecture, 'arm64')
  assert.is(result.prices.perGbSecondUsd, 0.0000133334, "the function's own architecture's price")
  assert.equal(
    result.results.map((r) => [r.memoryMb, r.version]),
    [
      [128, '1'],
      [1024, '2'],
    ],
  )
  assert.equal(result.best, {memoryMb: 1024, version: '2'})
  assert.ok(result.decided)
  assert.equal(new Set(target.versionsCalled), new Set(['1', '2']), 'calls went to the versions, never $LATEST')
  const live = await lambda.send(new GetAliasCommand({FunctionName: name, Name: 'live'}))
  assert.is(live.FunctionVersion, '2')
  const after = await state(name)
  assert.equal(after, {memory: 640, env: {MINE: '1'}, aliases: ['live'], versions: ['$LATEST', '2']})
})

test('tune --only-cold-starts on AWS: a version per call, every call a cold one; all removed', async () => {
  const name = 'cold-aws'
  await deployed(name)
  const target = await awsTarget()
  const result = await tune(target, request(name, {onlyColdStarts: true, discardTopBottom: 0}), quiet)
  assert.equal(
    result.results.map((r) => [r.memoryMb, r.coldStarts, r.durationsMs.length]),
    [
      [128, 5, 5],
      [1024, 5, 5],
    ],
  )
  assert.is(new Set(target.versionsCalled).size, 10, 'ten calls, ten versions')
  const after = await state(name)
  assert.equal(after, {memory: 640, env: {MINE: '1'}, aliases: [], versions: ['$LATEST']})
})

test.after(async () => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
  Object.assign(process.env, savedEnv)
  await moto.stop()
})

test.run()
