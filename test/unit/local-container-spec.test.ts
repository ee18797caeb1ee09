import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {
  containerSpec,
  DROPPED_CAPABILITIES,
  envFileText,
  hiddenEnv,
  lambdaEnv,
  sourcingEntrypoint,
} from '../../src/local/container-spec.js'
import {LABEL, PID_LABEL, PIDNS_LABEL, PORT_LABEL, FUNCTION_LABEL, pidNamespace} from '../../src/local/contracts.js'
import {defaultServiceOptions} from '../../src/local/service.js'
import type {LocalFunction} from '../../src/local/types.js'

const fn: LocalFunction = {
  name: 'spec-fn',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:spec-fn',
  imageUri: 'spec-fn:latest',
  command: ['app.handler'],
  memoryMb: 1769,
  timeoutS: 3,
  env: {SECRET: "it's", AWS_REGION: 'spoofed'},
  architectures: ['x86_64'],
  ephemeralStorageMb: 1024,
  logFormat: 'Text',
  revision: 1,
  lastModified: '2026-01-01T00:00:00.000+0000',
  codeSha256: 'x',
}

const options = defaultServiceOptions({
  port: 9811,
  hostCpus: 2,
  hostArchitecture: 'amd64',
  instanceId: 'inst-1',
  network: {name: 'faas-functions', gateway: '172.30.0.1'},
  binds: ['/host/a:/opt/a:ro'],
})

test('the container is limited and isolated as a Lambda sandbox', () => {
  const spec = containerSpec(fn, options, {env: {A: '1'}, binds: ['/x:/run/faas.env:ro']})
  assert.is(spec.image, 'spec-fn:latest')
  assert.is(spec.memoryMb, 1769)
  assert.is(spec.nanoCpus, 1e9, '1,769 MB is one vCPU')
  assert.is(spec.readOnlyRootfs, true)
  assert.equal(spec.tmpfs, {'/tmp': 'rw,exec,nosuid,nodev,size=1024m,mode=1777'})
  assert.is(spec.network, 'faas-functions')
  assert.equal(spec.capDrop, DROPPED_CAPABILITIES)
  assert.ok(spec.capDrop!.includes('NET_RAW'))
  assert.equal(spec.securityOpt, ['no-new-privileges'])
  assert.equal(spec.binds, ['/host/a:/opt/a:ro', '/x:/run/faas.env:ro'], "the service's binds, then the launch's")
  assert.equal(spec.env, {A: '1'})
  assert.is(spec.ports, undefined, 'no published ports')
})

test('the labels carry what the leftover sweep needs to prove the service gone', () => {
  const {labels} = containerSpec(fn, options, {env: {}})
  assert.equal(labels, {
    [LABEL]: 'inst-1',
    [PID_LABEL]: String(process.pid),
    [PIDNS_LABEL]: pidNamespace(),
    [PORT_LABEL]: '9811',
    [FUNCTION_LABEL]: 'spec-fn',
  })
})

test('CPU: a floor for small functions, the emulation factor for another architecture, capped at the host', () => {
  assert.is(containerSpec({...fn, memoryMb: 128}, options, {env: {}}).nanoCpus, 0.25e9)
  const emulated = containerSpec({...fn, memoryMb: 512, imageArchitecture: 'arm64'}, options, {env: {}})
  assert.ok(Math.abs(emulated.nanoCpus - (512 / 1769) * 4 * 1e9) < 1)
  assert.is(containerSpec({...fn, memoryMb: 10240}, options, {env: {}}).nanoCpus, 2e9)
})

test("the function's variables and the credentials token stay out of the visible ones", () => {
  const env = lambdaEnv(fn, options, 4000, 'local/x', 'tok.en')
  const {visible, hidden} = hiddenEnv(fn, env)
  assert.equal(hidden, {SECRET: "it's", AWS_CONTAINER_AUTHORIZATION_TOKEN: 'tok.en'})
  assert.is(visible.AWS_REGION, options.region, "Lambda's reserved names win")
  assert.is(visible.AWS_LAMBDA_RUNTIME_API, '172.30.0.1:4000')
  assert.not.ok('SECRET' in visible)
  assert.is(envFileText({S: "it's"}), `S='it'\\''s'\n`)
  assert.equal(sourcingEntrypoint(['/lambda-entrypoint.sh', 'app.handler']).cmd, [
    '/lambda-entrypoint.sh',
    'app.handler',
  ])
})

test.run()
