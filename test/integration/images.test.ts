// Build and publish against the real stack: Docker engine (arm64 under qemu), the open and the
// htpasswd registries, and the moto AWS emulator. Runs the built binary as a user would.
import {execa} from 'execa'
import {mkdirSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {assertUserError, faas, faasJson, motoEnv, scratchBenchmarks, stack, write} from '../helpers/cli.js'

const home = mkdtempSync(join(tmpdir(), 'faas-home-'))
const env = {FAAS_HOME: home, FAAS_BASE_IMAGE: 'local'}
const tag = `t${Date.now().toString(36)}`

test('builds arm64 images of all three map-reduce functions that run under emulation', async () => {
  const {result, exitCode, stderr} = await faasJson(
    ['build', 'map-reduce', '--platform', 'linux/arm64', '--tag', tag],
    {env},
  )
  assert.is(exitCode, 0, stderr)
  assert.equal(result.images.map((i: any) => i.function).sort(), ['driver', 'mapper', 'reducer'])
  for (const image of result.images) {
    assert.is(image.architecture, 'arm64')
    const inspect = JSON.parse((await execa('docker', ['image', 'inspect', image.image])).stdout)[0]
    assert.is(inspect.Architecture, 'arm64')
    assert.is(inspect.Id, image.imageId)
    // The handler module imports inside the image, on an (emulated) aarch64 CPU.
    const run = await execa('docker', [
      'run',
      '--rm',
      '--platform',
      'linux/arm64',
      '--entrypoint',
      'python3',
      image.image,
      '-c',
      'import platform, handler; print(platform.machine(), callable(handler.lambda_handler))',
    ])
    assert.is(run.stdout.trim(), 'aarch64 True')
  }
})

test('a rebuild with nothing changed runs no step', async () => {
  const {result} = await faasJson(['build', 'map-reduce', '--platform', 'linux/arm64', '--tag', tag], {env})
  for (const image of result.images) assert.equal(image.stepsRun, [], `${image.function} rebuilt ${image.stepsRun}`)
})

test('push to the local registry: arm64 manifest with the digest printed; a second push sends nothing', async () => {
  const first = await faasJson(['push', 'map-reduce', '--registry', stack.registry, '--tag', tag], {env})
  assert.is(first.exitCode, 0, first.stderr)
  for (const image of first.result.images) {
    const inspect = JSON.parse(
      (await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${image.uri}`])).stdout,
    )
    assert.is(inspect.Architecture, 'arm64')
    assert.is(inspect.Digest, image.digest)
    assert.is(image.skipped, false)
  }
  const second = await faasJson(['push', 'map-reduce', '--registry', stack.registry, '--tag', tag], {env})
  for (const image of second.result.images) {
    assert.is(image.skipped, true)
    assert.is(image.bytesPushed, 0)
    assert.is(image.digest, first.result.images.find((i: any) => i.function === image.function).digest)
  }
})

test('authenticated push: login with the password on stdin, then push; a wrong password fails clearly', async () => {
  const [user, password] = readFileSync(stack.authFile, 'utf8').trim().split('\n')
  const authHome = mkdtempSync(join(tmpdir(), 'faas-home-'))
  const wrong = await faas(['login', '--registry', stack.authRegistry, '--username', user!, '--password-stdin'], {
    env: {...env, FAAS_HOME: authHome},
    input: 'not-the-password',
  })
  assertUserError(wrong, /refused the login/)
  assert.not.match(wrong.stderr, 'not-the-password')

  const unauthenticated = await faas(
    ['push', 'map-reduce', '--function', 'mapper', '--registry', stack.authRegistry, '--tag', tag],
    {env: {...env, FAAS_HOME: authHome}},
  )
  assertUserError(unauthenticated, /refused the push.*faas login/s)

  const login = await faasJson(['login', '--registry', stack.authRegistry, '--username', user!, '--password-stdin'], {
    env: {...env, FAAS_HOME: authHome},
    input: password,
  })
  assert.is(login.exitCode, 0, login.stderr)
  assert.not.match(login.stdout + login.stderr, password!)
  const push = await faasJson(
    ['push', 'map-reduce', '--function', 'mapper', '--registry', stack.authRegistry, '--tag', tag],
    {env: {...env, FAAS_HOME: authHome}},
  )
  assert.is(push.exitCode, 0, push.stderr)
  assert.match(push.result.images[0].digest, /^sha256:[0-9a-f]{64}$/)
  assert.not.match(push.stdout + push.stderr, password!)
})

test('create_ecr_repo creates once against the emulator and is a no-op the second time', async () => {
  const name = `faas-test-${tag}`
  const first = await faasJson(['create_ecr_repo', '--repo_name', name], {env: {...env, ...motoEnv()}})
  assert.is(first.exitCode, 0, first.stderr)
  assert.is(first.result.created, true)
  assert.match(first.result.uri, new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${name}$`))
  const second = await faasJson(['create_ecr_repo', '--repo-name', name], {env: {...env, ...motoEnv()}})
  assert.is(second.result.created, false)
  assert.is(second.result.uri, first.result.uri)
})

test('bad input: unknown benchmark or function, invalid repository name, invalid tag', async () => {
  assertUserError(
    await faas(['build', 'no-such-benchmark'], {env}),
    /Unknown benchmark "no-such-benchmark".*Known benchmarks: .*map-reduce/s,
  )
  assertUserError(
    await faas(['build', 'map-reduce', '--function', 'combiner'], {env}),
    /no function "combiner".*driver, mapper, reducer/s,
  )
  assertUserError(
    await faas(['create_ecr_repo', '--repo_name', 'Bad_Name!'], {env: {...env, ...motoEnv()}}),
    /not a valid repository name/,
  )
  assertUserError(await faas(['build', 'map-reduce', '--tag', '-bad'], {env}), /not a valid image tag/)
})

test('bad input: a missing Dockerfile.Lambda; a failing RUN step shows the step and its log tail', async () => {
  const dir = scratchBenchmarks(['map-reduce'])
  const broken = join(dir, 'broken')
  mkdirSync(join(broken, 'docker'), {recursive: true})
  mkdirSync(join(broken, 'fn'))
  write(join(broken, 'benchmark.json'), JSON.stringify({name: 'broken', functions: {fn: {}}}))
  const missing = await faas(['build', 'broken', '--platform', 'linux/amd64'], {
    env: {...env, FAAS_BENCHMARKS_DIR: dir},
  })
  assertUserError(missing, /has no docker\/Dockerfile\.Lambda/)

  write(
    join(broken, 'docker', 'Dockerfile.Lambda'),
    'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo "compiling the thing" && echo "fatal: the thing broke" >&2 ' +
      '&& exit 3\n',
  )
  const failing = await faas(['build', 'broken', '--platform', 'linux/amd64'], {
    env: {...env, FAAS_BENCHMARKS_DIR: dir},
  })
  assertUserError(
    failing,
    /Building broken\/fn failed at step `\[2\/2\] RUN echo .*exit code: 3.*fatal: the thing broke/s,
  )
})

test('bad input: Docker engine not reachable says how DOCKER_HOST was resolved', async () => {
  const run = await faas(['build', 'map-reduce'], {env: {...env, DOCKER_HOST: 'unix:///tmp/faas-no-engine.sock'}})
  assertUserError(
    run,
    /Cannot reach the Docker engine at unix:\/\/\/tmp\/faas-no-engine\.sock \(from DOCKER_HOST\).*scripts\/stack\.sh/s,
  )
})

test('bad input: registry unreachable, image never built, missing credentials and region', async () => {
  assertUserError(
    await faas(['push', 'map-reduce', '--function', 'driver', '--registry', '127.0.0.1:5999', '--tag', tag], {env}),
    /cannot be reached/,
  )
  assertUserError(
    await faas(['push', 'map-reduce', '--function', 'driver', '--registry', stack.registry, '--tag', 'never-built'], {
      env,
    }),
    /no local image map-reduce-driver:never-built.*faas build/s,
  )
  const bare = {
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_PROFILE: 'faas-none',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_ENDPOINT_URL: stack.awsEndpoint,
  }
  assertUserError(
    await faas(['create_ecr_repo', '--repo_name', 'x-repo'], {env: {...env, ...bare, AWS_REGION: 'us-east-1'}}),
    /No AWS credentials were found.*AWS_ACCESS_KEY_ID/s,
  )
  assertUserError(
    await faas(['create_ecr_repo', '--repo_name', 'x-repo'], {
      env: {...env, ...motoEnv(), AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined},
    }),
    /No AWS region is set/,
  )
})

test('the seed credential names (AWS_ACCESS_KEY / AWS_SECRET_KEY / AWS_DEFAULT_REGION) work', async () => {
  const run = await faasJson(['create_ecr_repo', '--repo_name', `faas-seed-${tag}`], {
    env: {
      ...env,
      AWS_ENDPOINT_URL: stack.awsEndpoint,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_ACCESS_KEY: 'testing',
      AWS_SECRET_KEY: 'testing',
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ACCOUNT_ID: undefined,
    },
  })
  assert.is(run.exitCode, 0, run.stderr)
  assert.match(run.result.uri, /\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/faas-seed-/)
})

test.after(async () => {
  const images = ['driver', 'mapper', 'reducer'].flatMap((f) => [
    `map-reduce-${f}:${tag}`,
    `${stack.registry}/map-reduce-${f}:${tag}`,
    `${stack.authRegistry}/map-reduce-${f}:${tag}`,
  ])
  await execa('docker', ['rmi', '--force', ...images], {reject: false})
})

test.run()
