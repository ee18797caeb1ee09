import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {CreateFunctionUrlConfigCommand, LambdaClient} from '@aws-sdk/client-lambda'

import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {requireSecrets} from '../../src/local/credentials.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'

/** The local commands through the built binary (npm run build first), as a user runs them. */
test('faas local start --detach, deploy and invoke --target local, logs, status, stop', async () => {
  const engine = new DockerEngine()
  const [repo, tag] = (await fixtureImage(engine)).split(':') as [string, string]
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = String((server.address() as {port: number}).port)
  await new Promise((resolve) => server.close(resolve))
  const env = {FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-cli-')), FAAS_LOCAL_PORT: port, FAAS_TARGET: 'local'}
  try {
    const none = await faasJson(['local', 'status'], {env})
    assert.is(none.result.running, false)
    assertUserError(await faas(['local', 'logs', '-f', 'x'], {env}), /No local Lambda service answers/)
    const started = await faasJson(['local', 'start', '--detach'], {env})
    assert.is(started.exitCode, 0, started.stderr)
    assert.is(started.result.url, `http://127.0.0.1:${port}`)
    const deployed = await faasJson(
      [
        'deploy',
        '--repo_name',
        repo,
        '--repo_tag',
        tag,
        '--function_name',
        'cli-fn',
        '--handler',
        'handler.ok',
        '--arch',
        'x86_64',
        '--memory',
        '256',
      ],
      {env},
    )
    assert.is(deployed.exitCode, 0, deployed.stderr)
    const invoked = await faasJson(['invoke', '-f', 'cli-fn', '--payload', '{"from":"cli"}', '--log'], {env})
    assert.is(invoked.exitCode, 0, invoked.stderr)
    assert.equal(JSON.parse(invoked.result.payload).echo, {from: 'cli'})
    assert.ok(invoked.result.report.initDurationMs > 0)
    const logs = await faas(['local', 'logs', '-f', 'cli-fn'], {env})
    assert.match(logs.stdout, /REPORT RequestId: .*Memory Size: 256 MB/)
    const secrets = requireSecrets({...process.env, ...env})
    const lambda = new LambdaClient({
      endpoint: started.result.url,
      region: 'us-east-1',
      credentials: {accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey},
    })
    const {FunctionUrl: url} = await lambda.send(
      new CreateFunctionUrlConfigCommand({FunctionName: 'cli-fn', AuthType: 'AWS_IAM'}),
    )
    const statusText = await faas(['local', 'status'], {env})
    assert.ok(statusText.stdout.includes(`URL ${url}\tAWS_IAM`), statusText.stdout)
    const status = await faasJson(['local', 'status'], {env})
    assert.equal(status.result.functions, ['cli-fn'])
    assert.is(status.result.environments['cli-fn'].environments, 1)
    assert.equal(status.result.urls, [
      {function: 'cli-fn', qualifier: '$LATEST', url, authType: 'AWS_IAM', invokeMode: 'BUFFERED'},
    ])
    const stopped = await faasJson(['local', 'stop'], {env})
    assert.is(stopped.result.stopped, true)
    assert.equal(await findContainersByLabel(engine, `dev.faas.local.pid=${status.result.pid}`), [])
  } finally {
    await faas(['local', 'stop'], {env})
    rmSync(env.FAAS_HOME, {recursive: true, force: true})
  }
})

test.run()
