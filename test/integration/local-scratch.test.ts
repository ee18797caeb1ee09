import {CreateFunctionCommand, InvokeCommand} from '@aws-sdk/client-lambda'
import {execFileSync} from 'node:child_process'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {sandboxInit} from '../../src/local/sandbox.js'
import {LocalService} from '../../src/local/service.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {lambdaClient} from '../helpers/local.js'

const engine = new DockerEngine()

test('a FROM-scratch custom runtime (no /bin/sh) gets its hidden variables through the sandbox helper', async () => {
  if (!sandboxInit('amd64')) throw new Error('build the helper first: bash docker/sandbox-init/build.sh')
  // The fixture's binary is built on the host (CGO off), as a Go Lambda author builds it.
  execFileSync('/usr/local/go/bin/go', ['build', '-trimpath', '-o', 'bootstrap', '.'], {
    cwd: new URL('../fixtures/local/scratch-go/', import.meta.url),
    env: {...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod'},
  })
  const image = await fixtureImage(engine, 'scratch-go')
  await using service = await new LocalService(engine, {port: 0}).start()
  const lambda = lambdaClient(service)
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'scratch-go',
      PackageType: 'Image',
      Code: {ImageUri: image},
      Role: 'arn:aws:iam::000000000000:role/x',
      Environment: {Variables: {MY_SECRET: 's3cr3t'}},
    }),
  )
  const out = await lambda.send(new InvokeCommand({FunctionName: 'scratch-go', Payload: Buffer.from('{}')}))
  const answer = Buffer.from(out.Payload ?? []).toString('utf8')
  assert.is(out.FunctionError, undefined, answer)
  assert.equal(JSON.parse(answer), {secret: 's3cr3t', function: 'scratch-go'})
  const [env] = service.pools.get('scratch-go')!.envs
  const inspected = await engine.docker.getContainer(env!.containerId!).inspect()
  assert.not.ok(JSON.stringify(inspected.Config.Env).includes('s3cr3t'), 'the secret is not in docker inspect')
  assert.equal(inspected.Config.Entrypoint, ['/.faas-sandbox-init'])
  lambda.destroy()
})

test.run()
