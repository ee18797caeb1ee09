// Issue 10: a marker secret given through --envmap-file, --pass-credentials and `faas login` never
// shows in ps, docker inspect, logs, records, --json output or error text; and a squatter on the
// service's port gets nothing. Through the built CLI, a detached service, real containers, moto STS.
import {execa} from 'execa'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {faas, stack, type CliResult} from '../helpers/cli.js'
import {freePort} from '../helpers/net.js'

const test = suite('secrets stay secret')
const engine = new DockerEngine()
const marker = `MARKER${randomBytes(8).toString('hex')}`
const home = mkdtempSync(join(tmpdir(), 'faas-secrets-'))
const image = `faas-test/secprobe-${process.pid}:latest`
let env: Record<string, string | undefined> = {}
const outputs: CliResult[] = []
const run = async (args: string[], input?: string) => {
  const result = await faas(args, {env, input})
  outputs.push(result)
  return result
}

/** Every file under a folder, as text. */
function filesUnder(dir: string): Array<{path: string; text: string}> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    const stat = statSync(path)
    // Sockets (the loop keeper's) are no files to read.
    if (!stat.isDirectory() && !stat.isFile()) return []
    return stat.isDirectory() ? filesUnder(path) : [{path, text: readFileSync(path, 'latin1')}]
  })
}

test.before(async () => {
  await execa('docker', ['tag', await fixtureImage(engine), image])
  env = {
    FAAS_HOME: home,
    FAAS_LOCAL_PORT: String(await freePort()),
    FAAS_TARGET: 'local',
    AWS_REGION: 'us-east-1',
    // The user's long-lived keys: the marker. STS is moto's.
    AWS_ACCESS_KEY_ID: `AKIA${marker}`,
    AWS_SECRET_ACCESS_KEY: marker,
    AWS_ENDPOINT_URL_STS: stack.awsEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
  }
})

test.after(async () => {
  await faas(['local', 'stop'], {env})
  await execa('docker', ['rmi', image], {reject: false})
  rmSync(home, {recursive: true, force: true})
})

test('secrets (--pass-credentials, --envmap-file, login) are in no ps, inspect, log, record or error', async () => {
  const started = await run(['local', 'start', '--detach', '--pass-credentials', '--json'])
  assert.is(started.exitCode, 0, started.stderr)
  const pid = JSON.parse(started.stdout).pid as number

  const deployed = await run(
    [
      'deploy',
      '-n',
      image.split(':')[0]!,
      '-t',
      'latest',
      '-f',
      'secprobe',
      '--handler',
      'handler.probe',
      '--envmap-file',
      '-',
      '--json',
    ],
    JSON.stringify({APP_SECRET: marker}),
  )
  assert.is(deployed.exitCode, 0, deployed.stderr)
  const invoked = await run(['invoke', '-f', 'secprobe', '--payload', JSON.stringify({credentials: true}), '--json'])
  assert.is(invoked.exitCode, 0, invoked.stderr)
  const probe = JSON.parse(JSON.parse(invoked.stdout).payload)
  assert.ok(probe.env_keys.includes('APP_SECRET'), 'the function has its variable')
  assert.is(probe.credentials.method, 'container-role')
  assert.ok(probe.credentials.token, "an STS session reached the function, not the user's keys")

  // Error paths: a broken map, a wrong login password.
  const badMap = await run(
    ['deploy', '-n', image.split(':')[0]!, '-f', 'secprobe2', '--envmap-file', '-', '--json'],
    `{"APP_SECRET": "${marker}", oops}`,
  )
  assert.is.not(badMap.exitCode, 0)
  assert.match(badMap.stderr + badMap.stdout, /not valid JSON/)
  const badLogin = await run(
    ['login', '--registry', stack.authRegistry, '--username', 'faas', '--password-stdin'],
    marker,
  )
  assert.is.not(badLogin.exitCode, 0, 'a wrong password is refused')
  const badLoginJson = await run(
    ['login', '--registry', stack.authRegistry, '--username', 'faas', '--password-stdin', '--json'],
    marker,
  )
  assert.is.not(badLoginJson.exitCode, 0)

  const ps = (await execa('ps', ['-eww', '-o', 'pid,args'])).stdout
  assert.not.ok(ps.includes(marker), 'no process has the marker in its command line')
  const serviceEnv = (await execa('ps', ['eww', '-o', 'args', '-p', String(pid)])).stdout
  assert.ok(serviceEnv.includes('FAAS_HOME='), "ps shows the service's environment")
  assert.not.ok(serviceEnv.includes(marker), "the service's environment has no AWS keys")
  assert.not.ok(readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker))

  const ids = (await findContainersByLabel(engine, `dev.faas.local.pid=${pid}`)).map((c) => c.id)
  assert.ok(ids.length >= 1, "the function's environment runs")
  assert.not.ok((await execa('docker', ['inspect', ...ids])).stdout.includes(marker), 'docker inspect shows no secret')

  for (const file of filesUnder(home)) assert.not.ok(file.text.includes(marker), `${file.path} holds the marker`)
  for (const [i, out] of outputs.entries())
    assert.not.ok(out.stdout.includes(marker) || out.stderr.includes(marker), `command ${i} printed the marker`)
})

test('faas local credentials prints what boto3 needs; its --json names the file, not the secret', async () => {
  const exports = await faas(['local', 'credentials'], {env})
  assert.is(exports.exitCode, 0, exports.stderr)
  const vars = Object.fromEntries([...exports.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]))
  assert.ok(vars.AWS_SECRET_ACCESS_KEY && vars.AWS_ENDPOINT_URL_LAMBDA)
  const py = await execa(
    '/var/lib/faas-stack/venv/bin/python',
    [
      '-c',
      'import boto3; print(sorted(f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]))',
    ],
    {
      env: {
        ...vars,
        AWS_SESSION_TOKEN: undefined,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
      extendEnv: false,
    },
  )
  assert.match(py.stdout, /secprobe/, 'boto3 configured from the printed exports reaches the service')
  const json = await faas(['local', 'credentials', '--json'], {env})
  assert.is(JSON.parse(json.stdout).accessKeyId, vars.AWS_ACCESS_KEY_ID)
  assert.not.ok(json.stdout.includes(vars.AWS_SECRET_ACCESS_KEY!), '--json does not carry the secret')
})

test('a squatter answering {"service":"faas-local"} gets no request content; the user a clear error', async () => {
  const seen: string[] = []
  const squatter = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`)
      res.writeHead(200, {'Content-Type': 'application/json'})
      res.end(JSON.stringify({service: 'faas-local', pid: 1, id: 'x', proof: 'f'.repeat(64), functions: []}))
    })
  })
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
  const squatHome = mkdtempSync(join(tmpdir(), 'faas-squat-'))
  const squatEnv = {...env, FAAS_HOME: squatHome, FAAS_LOCAL_PORT: String((squatter.address() as AddressInfo).port)}
  try {
    const deployed = await faas(['deploy', '-n', image.split(':')[0]!, '-f', 'squatted', '--envmap-file', '-'], {
      env: squatEnv,
      input: JSON.stringify({APP_SECRET: marker}),
    })
    assert.is.not(deployed.exitCode, 0)
    assert.match(deployed.stderr, /cannot prove it is your faas local service/)
    const status = await faas(['local', 'status'], {env: squatEnv})
    assert.match(status.stderr, /cannot prove it is your faas local service/)
    assert.ok(seen.length > 0)
    for (const request of seen)
      assert.match(request, /^GET \/faas\/identity\?nonce=[0-9a-f]+ $/, 'only identity challenges, no content')
  } finally {
    squatter.close()
    rmSync(squatHome, {recursive: true, force: true})
  }
})

test.run()
