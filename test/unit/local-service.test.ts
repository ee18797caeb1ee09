import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {parseReport} from '../../src/core/report.js'
import {arnOf, nameOf} from '../../src/local/arns.js'
import {configuration} from '../../src/local/control-api.js'
import {cpuShare, emulation, lambdaEnv} from '../../src/local/container-spec.js'
import {logTail} from '../../src/local/invoke-api.js'
import {defaultServiceOptions} from '../../src/local/service.js'
import {portOf, serviceOptions} from '../../src/local/service-process.js'
import {loadSettings} from '../../src/core/settings.js'
import type {LocalFunction} from '../../src/local/types.js'

const fn: LocalFunction = {
  name: 'map-reduce-driver',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:map-reduce-driver',
  imageUri: 'map-reduce-driver:latest',
  command: ['driver.lambda_handler'],
  memoryMb: 1024,
  timeoutS: 60,
  env: {BUCKET: 'b', AWS_REGION: 'mine', AWS_LAMBDA_FUNCTION_NAME: 'spoofed'},
  architectures: ['arm64'],
  ephemeralStorageMb: 512,
  logFormat: 'Text',
  revision: 1,
  lastModified: '2026-01-01T00:00:00.000+0000',
  codeSha256: 'x',
}

test('CPU follows memory as on Lambda (1,769 MB = 1 vCPU), with a floor and capped at the host', () => {
  assert.is(cpuShare(1769, 0.25, 2), 1)
  assert.is(cpuShare(3538, 0.25, 2), 2)
  assert.is(cpuShare(10240, 0.25, 2), 2)
  assert.is(cpuShare(128, 0.25, 2), 0.25)
  assert.ok(Math.abs(cpuShare(128, 0, 2) - 128 / 1769) < 1e-9)
})

test('an emulated environment gets its CPU share times the emulation factor, capped at the host', () => {
  const options = defaultServiceOptions({hostArchitecture: 'amd64', hostCpus: 2})
  assert.is(options.emulationCpuFactor, 4)
  assert.equal(emulation({...fn, imageArchitecture: 'arm64'}, options), {image: 'arm64', host: 'amd64'})
  assert.is(emulation({...fn, imageArchitecture: 'amd64'}, options), undefined)
  assert.ok(Math.abs(cpuShare(512, 0.25, 2, 4) - (512 / 1769) * 4) < 1e-9, '512 MB emulated: 1.16 vCPU')
  assert.is(cpuShare(1024, 0.25, 2, 4), 2, 'capped at the host')
  assert.is(cpuShare(128, 0.25, 2, 4), 1, 'the floor is multiplied too')
})

test('settings that would hang or fail every call are refused with a user error naming the fix', () => {
  const refused = (overrides: Record<string, unknown>, flag: string) =>
    assert.throws(
      () => defaultServiceOptions(overrides),
      (e: {code?: string; fix?: string}) => e.code === 'BAD_LOCAL_SETTING' && Boolean(e.fix?.includes(flag)),
    )
  refused({maxEnvironmentsPerFunction: 0}, '--max-environments')
  refused({maxEnvironmentsPerFunction: -3}, '--max-environments')
  refused({maxEnvironmentsPerFunction: 1.5}, '--max-environments')
  refused({idleTimeoutMs: -1000}, '--idle-timeout')
  refused({idleTimeoutMs: Number.NaN}, '--idle-timeout')
  refused({initTimeoutMs: 0}, 'FAAS_LOCAL_INIT_TIMEOUT')
  refused({queueTimeoutMs: -1}, '--queue-timeout')
  refused({maxQueuedPerFunction: -1}, '--max-queue')
  assert.is(defaultServiceOptions({maxEnvironmentsPerFunction: 1, idleTimeoutMs: 1000}).maxEnvironmentsPerFunction, 1)
  // Through the same path the CLI takes (flags and environment).
  assert.throws(
    () => serviceOptions(loadSettings({}), {maxEnvironments: 0}, {}),
    (e: {code?: string}) => e.code === 'BAD_LOCAL_SETTING',
  )
  assert.throws(
    () => serviceOptions(loadSettings({}), {idleTimeoutS: -5}, {}),
    (e: {code?: string}) => e.code === 'BAD_LOCAL_SETTING',
  )
  assert.throws(
    () => serviceOptions(loadSettings({}), {}, {FAAS_LOCAL_INIT_TIMEOUT: 'soon'}),
    (e: {code?: string}) => e.code === 'BAD_LOCAL_SETTING',
  )
  assert.is(serviceOptions(loadSettings({}), {}, {FAAS_LOCAL_INIT_TIMEOUT: '2.5'}).initTimeoutMs, 2500)
  // The prepared sandboxes: bounded, whole, and no more per function than in all.
  refused({preparedPerFunction: 65}, '--prepared')
  refused({preparedPerFunction: -1}, '--prepared')
  refused({preparedPerFunction: 1.5}, '--prepared')
  refused({preparedTotal: 257}, '--prepared-total')
  refused({preparedPerFunction: 4, preparedTotal: 2}, '--prepared-total')
  assert.throws(
    () => serviceOptions(loadSettings({}), {}, {FAAS_LOCAL_PREPARED: 'many'}),
    (e: {code?: string; message?: string}) => e.code === 'BAD_LOCAL_SETTING' && /FAAS_LOCAL_PREPARED/.test(e.message!),
  )
  assert.is(serviceOptions(loadSettings({}), {}, {FAAS_LOCAL_PREPARED: '0'}).preparedPerFunction, 0)
  assert.is(serviceOptions(loadSettings({}), {prepared: 2}, {FAAS_LOCAL_PREPARED: '0'}).preparedPerFunction, 2)
  assert.is(serviceOptions(loadSettings({}), {prepare: false}, {FAAS_LOCAL_PREPARED: '3'}).preparedPerFunction, 0)
  assert.is(serviceOptions(loadSettings({}), {}, {FAAS_LOCAL_PREPARED_TOTAL: '2'}).preparedTotal, 2)
  // Async retry delays: seconds, one or two of them.
  assert.equal(serviceOptions(loadSettings({}), {asyncRetryDelays: '1,2'}, {}).asyncRetryDelaysMs, [1000, 2000])
  assert.equal(serviceOptions(loadSettings({}), {}, {FAAS_LOCAL_ASYNC_RETRY_DELAYS: '0.5'}).asyncRetryDelaysMs, [500])
  for (const bad of ['soon', '1,2,3', '-1', '1,'])
    assert.throws(
      () => serviceOptions(loadSettings({}), {asyncRetryDelays: bad}, {}),
      (e: {code?: string; fix?: string}) =>
        e.code === 'BAD_LOCAL_SETTING' && /--async-retry-delays 1,2/.test(e.fix ?? ''),
      bad,
    )
})

test("environment: Lambda's reserved variables win; no AWS keys, a credentials endpoint instead", () => {
  const options = defaultServiceOptions({port: 9001, region: 'eu-west-1', s3Endpoint: 'http://127.0.0.1:9002'})
  const env = lambdaEnv(fn, options, 40123, 'local/abc')
  assert.is(env.AWS_LAMBDA_FUNCTION_NAME, 'map-reduce-driver')
  assert.is(env.AWS_REGION, 'eu-west-1')
  assert.is(env.BUCKET, 'b')
  assert.is(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '1024')
  assert.is(env._HANDLER, 'driver.lambda_handler')
  assert.is(env.AWS_LAMBDA_RUNTIME_API, '127.0.0.1:40123')
  assert.is(env.AWS_ENDPOINT_URL_LAMBDA, 'http://127.0.0.1:9001')
  assert.is(env.AWS_ENDPOINT_URL_S3, 'http://127.0.0.1:9002')
  assert.is(env.AWS_ACCESS_KEY_ID, undefined)
  const passed = lambdaEnv(
    fn,
    {...options, credentials: {accessKeyId: 'AKIA', secretAccessKey: 's3cr3t'}},
    1,
    'x',
    'token',
  )
  assert.is(passed.AWS_ACCESS_KEY_ID, undefined, 'passed credentials never become variables')
  assert.is(passed.AWS_SECRET_ACCESS_KEY, undefined)
  assert.is(passed.AWS_CONTAINER_AUTHORIZATION_TOKEN, 'token')
  assert.is(passed.AWS_CONTAINER_CREDENTIALS_FULL_URI, 'http://127.0.0.1:9001/faas/credentials')
  assert.is(lambdaEnv(fn, defaultServiceOptions(), 1, 'x').AWS_ENDPOINT_URL_S3, undefined)
  assert.is(env.AWS_LAMBDA_LOG_FORMAT, undefined, 'Text: no log format variable')
  assert.is(lambdaEnv({...fn, logFormat: 'JSON'}, options, 1, 'x').AWS_LAMBDA_LOG_FORMAT, 'JSON')
})

test('the log tail is the last 4 KB, base64, and keeps the REPORT line', () => {
  const lines = [
    'START RequestId: r Version: $LATEST',
    ...Array.from({length: 200}, (_, i) => `line ${i} ${'x'.repeat(40)}`),
    'END RequestId: r',
    'REPORT RequestId: r\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\t',
  ]
  const tail = Buffer.from(logTail(lines), 'base64')
  assert.is(tail.length, 4096)
  assert.is(parseReport(tail.toString('utf8'))?.maxMemoryUsedMb, 30)
  assert.is(Buffer.from(logTail(['a', 'b']), 'base64').toString('utf8'), 'a\nb\n')
})

test('functions are named by name or ARN, and configured as GetFunction reports them', () => {
  assert.is(nameOf('my-fn'), 'my-fn')
  assert.is(nameOf(encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:my-fn')), 'my-fn')
  assert.is(nameOf('arn:aws:lambda:us-east-1:000000000000:function:my-fn:$LATEST'), 'my-fn')
  assert.is(arnOf({region: 'us-west-1', accountId: '1'}, 'f'), 'arn:aws:lambda:us-west-1:1:function:f')
  const config = configuration(fn)
  assert.is(config.State, 'Active')
  assert.is(config.LastUpdateStatus, 'Successful')
  assert.is(config.PackageType, 'Image')
  assert.equal(config.ImageConfigResponse, {ImageConfig: {Command: ['driver.lambda_handler'], EntryPoint: undefined}})
  assert.equal(configuration({...fn, ephemeralStorageMb: 2048, logFormat: 'JSON'}).EphemeralStorage, {Size: 2048})
  assert.equal((configuration({...fn, logFormat: 'JSON'}).LoggingConfig as {LogFormat: string}).LogFormat, 'JSON')
})

test('the port comes from the flag, then FAAS_LOCAL_PORT, then 9001; a bad one is a user error', () => {
  assert.is(portOf({}, {}), 9001)
  assert.is(portOf({}, {FAAS_LOCAL_PORT: '9100'}), 9100)
  assert.is(portOf({port: 9200}, {FAAS_LOCAL_PORT: '9100'}), 9200)
  assert.throws(
    () => portOf({}, {FAAS_LOCAL_PORT: 'ninety'}),
    (e: {code?: string}) => e.code === 'BAD_PORT',
  )
})

test("--pass-credentials needs credentials; without it the user's stay out of the service", () => {
  const env = {AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-west-2'}
  assert.is(serviceOptions(loadSettings(env), {}, env).credentials, undefined)
  assert.is(serviceOptions(loadSettings(env), {passCredentials: true}, env).credentials?.accessKeyId, 'AKIA')
  assert.is(serviceOptions(loadSettings(env), {}, env).region, 'us-west-2')
  assert.throws(
    () => serviceOptions(loadSettings({}), {passCredentials: true}, {}),
    (e: {code?: string}) => e.code === 'NO_CREDENTIALS',
  )
})

test.run()
