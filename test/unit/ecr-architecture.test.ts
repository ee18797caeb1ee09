// The image's own architecture, read from ECR for a single-platform image (its config blob, handed out
// by GetDownloadUrlForLayer), decides the function's Architectures. moto has no config blobs, so: mocks,
// and a real HTTP server on 127.0.0.1 standing in for the presigned download URL.
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  GetDownloadUrlForLayerCommand,
} from '@aws-sdk/client-ecr'
import {IAMClient} from '@aws-sdk/client-iam'
import {LambdaClient} from '@aws-sdk/client-lambda'
import {mockClient} from 'aws-sdk-client-mock'
import {createServer} from 'node:http'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {findEcrImage} from '../../src/aws/ecr-images.js'
import {AwsTarget} from '../../src/targets/aws.js'
import type {FunctionSpec} from '../../src/targets/target.js'

const ecrMock = mockClient(ECRClient)
const credentials = {accessKeyId: 'a', secretAccessKey: 'b'}
const ecr = new ECRClient({region: 'us-east-1', credentials})
const digest = `sha256:${'b'.repeat(64)}`
const configDigest = `sha256:${'c'.repeat(64)}`

const blobs = createServer((request, response) => {
  response.setHeader('Content-Type', 'application/json')
  response.end(JSON.stringify({architecture: request.url === '/amd64' ? 'amd64' : 'arm64', os: 'linux'}))
})
let base = ''

test.before(async () => {
  await new Promise<void>((resolve) => blobs.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(blobs.address() as {port: number}).port}`
})
test.after(() => {
  ecrMock.restore()
  blobs.close()
})
test.before.each(() => {
  ecrMock.reset()
})

const singleImage = (arch: string) => {
  ecrMock.on(DescribeImagesCommand).resolves({
    imageDetails: [
      {imageDigest: digest, imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json'},
    ],
  })
  ecrMock
    .on(BatchGetImageCommand)
    .resolves({images: [{imageManifest: JSON.stringify({schemaVersion: 2, config: {digest: configDigest}})}]})
  ecrMock.on(GetDownloadUrlForLayerCommand, {layerDigest: configDigest}).resolves({downloadUrl: `${base}/${arch}`})
}

test('a single-platform image reports the architecture of its config', async () => {
  singleImage('amd64')
  assert.equal(await findEcrImage(ecr, '123456789012', 'fn', 'latest'), {digest, architectures: ['amd64']})
})

test("deploy preflight takes the image's architecture over the default, and pins the digest", async () => {
  singleImage('amd64')
  const target = new AwsTarget({
    clients: {
      ecr,
      iam: new IAMClient({region: 'us-east-1', credentials}),
      lambda: new LambdaClient({region: 'us-east-1', credentials}),
      invoker: new LambdaClient({region: 'us-east-1', credentials}),
    },
  })
  const spec: FunctionSpec = {
    name: 'fn',
    image: {uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:latest', architecture: 'arm64'},
    memoryMb: 1024,
    timeoutS: 120,
    env: {},
    policies: [],
  }
  const [checked] = await target.preflight([spec])
  assert.equal(checked!.image, {uri: spec.image.uri, architecture: 'x86_64', digest})
})

test('an unreadable config (no permission, an emulator): architecture unknown, not a failure', async () => {
  singleImage('arm64')
  ecrMock.on(GetDownloadUrlForLayerCommand).rejects(Object.assign(new Error('denied'), {name: 'AccessDeniedException'}))
  assert.equal(await findEcrImage(ecr, '123456789012', 'fn', 'latest'), {digest, architectures: []})
})

test.run()
