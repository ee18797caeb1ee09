import {execa} from 'execa'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'

/** `faas invoke --stream` through the built binary: chunks printed as they come; Python's runtime says it won't. */
test('faas invoke --stream prints chunks as the function writes them, and names a runtime that cannot', async () => {
  const engine = new DockerEngine()
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = String((server.address() as {port: number}).port)
  await new Promise((resolve) => server.close(resolve))
  const env = {FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-stream-')), FAAS_LOCAL_PORT: port, FAAS_TARGET: 'local'}
  const deploy = async (name: string, image: string, handler?: string[]) => {
    const [repo, tag] = image.split(':') as [string, string]
    const args = ['deploy', '--repo_name', repo, '--repo_tag', tag, '--function_name', name, '--arch', 'x86_64']
    const run = await faasJson([...args, ...(handler ?? [])], {env})
    assert.is(run.exitCode, 0, run.stderr)
  }
  try {
    assert.is((await faasJson(['local', 'start', '--detach'], {env})).exitCode, 0)
    await deploy('streamer', await fixtureImage(engine, 'streaming'))
    await deploy('python', await fixtureImage(engine), ['--handler', 'handler.echo'])
    await faas(['invoke', '-f', 'streamer', '--stream', '-p', '{"chunks":1,"delay":0}'], {env}) // cold start

    const cli = execa(
      'node',
      [join(PROJECT_ROOT, 'bin', 'run.js'), 'invoke', '-f', 'streamer', '--stream', '-p', '{"chunks":3,"delay":0.6}'],
      {
        env: {FORCE_COLOR: '0', ...env},
      },
    )
    const first = await new Promise<{at: number; text: string}>((resolve) =>
      cli.stdout!.once('data', (bytes: Buffer) => resolve({at: Date.now(), text: bytes.toString('utf8')})),
    )
    const done = await cli
    const endedAt = Date.now()
    assert.match(first.text, /^chunk 0 at /)
    assert.ok(endedAt - first.at >= 1000, `the first chunk printed only ${endedAt - first.at} ms before the end`)
    assert.is(done.stdout.match(/chunk \d at/g)?.length, 3, done.stdout)
    assert.not.match(done.stderr, /managed runtime/)

    const python = await faas(['invoke', '-f', 'python', '--stream', '-p', '{"a":1}'], {env})
    assert.is(python.exitCode, 0, python.stderr)
    assert.equal(JSON.parse(python.stdout), {a: 1})
    assert.match(python.stderr, /python runs Python's managed runtime, which does not stream on Lambda/)

    const failed = await faas(['invoke', '-f', 'streamer', '--stream', '-p', '{"chunks":3,"delay":0,"fail_after":2}'], {
      env,
    })
    assert.is(failed.exitCode, 1)
    assert.is(failed.stdout.match(/chunk \d at/g)?.length, 2, failed.stdout)
    assert.match(failed.stderr, /streamer failed .*StreamError.*failed after 2 chunks/)
    assertUserError(await faas(['invoke', '-f', 'streamer', '--stream', '--type', 'Event'], {env}), /--stream .*Event/)
  } finally {
    await faas(['local', 'stop'], {env})
    rmSync(env.FAAS_HOME, {recursive: true, force: true})
  }
})

test.run()
