// The vHive-vs-Lambda study redone with one tool, as the README's recipe, through the binary on the
// local target at a small rate: chameleon built, deployed and checked (faas run), benched over the
// Lambda Invoke API; the same function served as a vSwarm gRPC container (faas serve) and benched
// over gRPC with one endpoints file per protocol; the two compared (faas compare).
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {faas, faasJson} from '../helpers/cli.js'

const work = mkdtempSync(join(tmpdir(), 'faas-study-'))
const env = {
  FAAS_HOME: join(work, 'home'),
  FAAS_LOCAL_PORT: process.env.FAAS_STUDY_TEST_PORT ?? '9580',
  FAAS_LOCAL_S3_PORT: process.env.FAAS_STUDY_TEST_S3_PORT ?? '9581',
  FAAS_BASE_IMAGE: 'local',
  FAAS_PLATFORM: 'linux/amd64',
  FAAS_TARGET: undefined,
}
const payload = JSON.stringify({num_of_rows: 20, num_of_cols: 10})
const load = ['--payload', payload, '--rps', '2', '--time', '5']

test.after(async () => {
  await faas(['serve', '--stop'], {env})
  await faas(['local', 'stop'], {env})
  await rm(work, {recursive: true, force: true})
})

test('chameleon over Lambda and over gRPC, compared', async () => {
  const run = await faasJson(['run', 'chameleon', '--payload', payload], {env})
  assert.is(run.exitCode, 0, run.stderr)

  const lambdaEndpoints = join(work, 'endpoints-lambda.json')
  writeFileSync(lambdaEndpoints, JSON.stringify([{hostname: 'chameleon-render', eventing: false, matchers: null}]))
  const lambda = await faasJson(['bench', '--endpoints', lambdaEndpoints, ...load, '--out', join(work, 'lambda')], {
    env,
  })
  assert.is(lambda.exitCode, 0, lambda.stderr)
  assert.is(lambda.result.summary.count, 10)
  assert.is(lambda.result.summary.errors, 0)

  const grpcEndpoints = join(work, 'endpoints-grpc.json')
  const served = await faasJson(['serve', 'chameleon', '--protocol', 'grpc', '--out', grpcEndpoints], {env})
  assert.is(served.exitCode, 0, served.stderr)
  assert.match(JSON.parse(readFileSync(grpcEndpoints, 'utf8'))[0].hostname, /^127\.0\.0\.1:\d+$/)
  const grpc = await faasJson(
    ['bench', '--protocol', 'grpc', '--endpoints', grpcEndpoints, ...load, '--out', join(work, 'grpc')],
    {env},
  )
  assert.is(grpc.exitCode, 0, grpc.stderr)
  assert.is(grpc.result.summary.count, 10)
  assert.is(grpc.result.summary.errors, 0)
  assert.is(grpc.result.summary.protocol, 'grpc')

  const compared = await faasJson(
    ['compare', join(work, 'lambda'), join(work, 'grpc'), '--out', join(work, 'compare')],
    {env},
  )
  assert.is(compared.exitCode, 0, compared.stderr)
  assert.equal(
    compared.result.runs.map((r: {protocol: string}) => r.protocol),
    ['lambda', 'grpc'],
  )
  const [difference] = compared.result.differences
  assert.ok(difference.p50.lo <= difference.p50.estimate && difference.p50.estimate <= difference.p50.hi)
  assert.match(readFileSync(join(work, 'compare', 'report.html'), 'utf8'), /id="cdf-overlay"/)
})

test.run()
