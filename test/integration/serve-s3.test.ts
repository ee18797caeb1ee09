import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {S3} from '@aws-sdk/client-s3'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {silent} from '../../src/core/events.js'
import {loadBenchmark} from '../../src/core/manifest.js'
import {driveChecked, startChecker} from '../../src/run/drive.js'
import {ensureBucket} from '../../src/storage/s3.js'
import {stopLocalS3} from '../../src/storage/local-s3.js'
import {faas, faasJson} from '../helpers/cli.js'

/**
 * `faas serve image-rotate`: the server reads its images from the local S3 store, which listens on
 * the host's loopback; serve forwards it onto its own network's gateway. image-rotate's checker (the one
 * `faas run` uses) uploads the images and checks every rotated result, here against the HTTP server.
 */
const home = await mkdtemp(join(tmpdir(), 'faas-serve-s3-home-'))
// Ports of h9-serve-s3's range (9650-9699): the store and the server.
const S3_PORT = 9652
const HTTP_PORT = 9653
const env = {
  FAAS_HOME: home,
  FAAS_BENCHMARKS_DIR: join(PROJECT_ROOT, 'benchmarks'),
  FAAS_PLATFORM: 'linux/amd64',
  FAAS_LOCAL_S3_PORT: String(S3_PORT),
}
const engine = new DockerEngine()

test.after(async () => {
  await faas(['serve', '--stop'], {env})
  await stopLocalS3(engine, String(S3_PORT))
  await rm(home, {recursive: true, force: true})
})

const gatewayNetworks = async () =>
  (await engine.docker.listNetworks())
    .filter((n) => n.Name.startsWith('faas-serve-') && n.Labels?.['dev.faas.network'] === 'serve')
    .map((n) => n.Name)

test('image-rotate over HTTP reads from the local S3 store and writes each image rotated exactly', async () => {
  const before = await gatewayNetworks()
  const served = await faasJson(
    ['serve', 'image-rotate', '--protocol', 'http', '--port', String(HTTP_PORT), '--platform', 'linux/amd64'],
    {env},
  )
  assert.is(served.exitCode, 0, served.stderr)
  const server = served.result.served[0]
  assert.is(server.address, `127.0.0.1:${HTTP_PORT}`)

  const s3 = new S3({
    endpoint: `http://127.0.0.1:${S3_PORT}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'local', secretAccessKey: 'local'},
  })
  const bucket = 'faas-serve-s3-test'
  const invoke = async (payload: unknown) => {
    const response = await fetch(`http://${server.address}/`, {
      method: 'POST',
      body: JSON.stringify(payload),
      headers: {'content-type': 'application/json'},
    })
    return {
      name: 'image-rotate',
      statusCode: response.status,
      payload: await response.text(),
      startedAtUs: 0,
      clientLatencyUs: 0,
    }
  }
  const manifest = await loadBenchmark('image-rotate')
  const started = await startChecker(
    engine,
    manifest,
    {tag: 'latest', baseImage: 'local', payload: manifest.payload, params: {}, seed: 7},
    silent,
  )
  try {
    await ensureBucket(s3, bucket, 'us-east-1')
    const result = await driveChecked(started, {
      seed: 7,
      runId: 'serve-s3',
      payload: manifest.payload,
      invoke: async (payload) => {
        const outcome = await invoke(payload)
        assert.is(outcome.statusCode, 200, outcome.payload)
        return outcome
      },
      storage: {s3, bucket, tables: {put: async () => 0, scan: async () => []}},
      tables: [],
    })
    assert.equal(result.differences, [])
    assert.ok(result.correct)
  } finally {
    await started.checker.stop()
    s3.destroy()
  }

  // --stop takes the network and the forwarder with the server.
  const created = (await gatewayNetworks()).filter((n) => !before.includes(n))
  assert.is(created.length, 1, 'serve made its own network')
  assert.is((await faas(['serve', '--stop'], {env})).exitCode, 0)
  assert.not.ok((await gatewayNetworks()).includes(created[0]!), 'the network is removed with the last server')
  const refused = await fetch(`http://127.0.0.1:${HTTP_PORT}/`, {method: 'POST', body: '{}'}).then(
    () => false,
    () => true,
  )
  assert.ok(refused, 'the server is gone')
})

test.run()
