// deploy / destroy against the moto AWS emulator over HTTP with the real SDK, and the CLI's bad-input
// paths. Each run starts its own moto (a clean account) and stops it afterwards, pass or fail.
import {ECRClient, CreateRepositoryCommand, DescribeRepositoriesCommand, PutImageCommand} from '@aws-sdk/client-ecr'
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam'
import {
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  LambdaClient,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda'
import {execa, type ResultPromise} from 'execa'
import {createHash} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {createAwsClients, type AwsClients} from '../../src/aws/clients.js'
import {BASIC_EXECUTION_ROLE_ARN} from '../../src/core/policies.js'
import {loadSettings} from '../../src/core/settings.js'
import {deploy} from '../../src/services/deploy.js'
import {AwsTarget} from '../../src/targets/aws.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'
import {freePort} from '../helpers/net.js'

const MOTO = process.env.FAAS_MOTO_SERVER ?? '/var/lib/faas-stack/venv/bin/moto_server'
const ACCOUNT = '123456789012'
const REGISTRY = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`

/** A moto server of our own, with AWS's managed policies loaded (AWSLambdaBasicExecutionRole). */
async function startMoto(): Promise<{url: string; stop: () => Promise<void>}> {
  const port = await freePort()
  const child: ResultPromise = execa(MOTO, ['-H', '127.0.0.1', '-p', String(port)], {
    env: {MOTO_IAM_LOAD_MANAGED_POLICIES: 'true'},
    reject: false,
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    // Poll until it answers (no fixed sleep): each failed connect returns at once.
    const up = await fetch(`${url}/moto-api/data.json`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`moto did not start on ${url}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
  process.once('exit', () => child.kill())
  return {url, stop: async () => void (child.kill(), await child)}
}

const moto = await startMoto()
const env = {
  AWS_ENDPOINT_URL: moto.url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_ACCOUNT_ID: ACCOUNT,
  FAAS_TARGET: 'aws',
  FAAS_REGISTRY: undefined,
  FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
  AWS_EC2_METADATA_DISABLED: 'true',
}
// uvu runs every file in one process: our env is restored in test.after.
const savedEnv = {...process.env}
Object.assign(process.env, env)
delete process.env.FAAS_REGISTRY
const settings = loadSettings(process.env)

/** Clients that record every command name sent, to tell reads from writes. */
function recordingClients(): AwsClients & {sent: string[]} {
  const clients = createAwsClients(settings)
  const sent: string[] = []
  for (const client of [clients.ecr, clients.iam, clients.lambda]) {
    client.middlewareStack.add((next, context) => (args) => (sent.push(String(context.commandName)), next(args)), {
      step: 'initialize',
      name: 'recordCommands',
    })
  }
  return Object.assign(clients, {sent})
}
const writesOf = (sent: string[]) => sent.filter((c) => !/^(Get|List|Describe|BatchGet)/.test(c))

const ecr = new ECRClient({region: 'us-east-1'})
const iam = new IAMClient({region: 'us-east-1'})
const lambda = new LambdaClient({region: 'us-east-1'})

/** Puts an image manifest under repository:tag, as a push would; returns its digest. */
async function pushImage(repository: string, tag: string, seed: string): Promise<string> {
  await ecr.send(new CreateRepositoryCommand({repositoryName: repository})).catch((e) => {
    if (e.name !== 'RepositoryAlreadyExistsException') throw e
  })
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 1000,
      digest: `sha256:${createHash('sha256').update(seed).digest('hex')}`,
    },
    // moto derives the image digest from the layer digests.
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: 1000,
        digest: `sha256:${createHash('sha256').update(`${seed}-layer`).digest('hex')}`,
      },
    ],
  })
  const out = await ecr.send(new PutImageCommand({repositoryName: repository, imageTag: tag, imageManifest: manifest}))
  return out.image!.imageId!.imageDigest!
}

async function ours(): Promise<{functions: string[]; roles: string[]}> {
  const functions = (await lambda.send(new ListFunctionsCommand({}))).Functions ?? []
  const roles = (await iam.send(new ListRolesCommand({}))).Roles ?? []
  return {
    functions: functions.map((f) => f.FunctionName!).sort(),
    roles: roles
      .map((r) => r.RoleName!)
      .filter((n) => !n.startsWith('AWSServiceRole'))
      .sort(),
  }
}

const digests: Record<string, string> = {}
const quiet = () => {}

test.after(async () => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key]
  Object.assign(process.env, savedEnv)
  await moto.stop()
})

test('bad input: each a clear error, a non-zero exit, and nothing created', async () => {
  const digest = await pushImage('newfunc', 'latest', 'v1')
  assert.match(digest, /^sha256:/)
  const seed = ['deploy', '--repo_name', 'newfunc', '--repo_tag', 'latest', '--function_name', 'NewFuncLambda']
  const cases: Array<[string[], RegExp, Record<string, string | undefined>?]> = [
    [
      [...seed, '--policies', 'access_s3,access_dynamo'],
      /Unknown policy bundle: access_dynamo\. Known bundles: access_s3, invoke_function/,
    ],
    [[...seed, '--envmap', "{'K':'V'}"], /--envmap is not valid JSON/],
    [[...seed, '--envmap', '{"N":4}'], /the value of N must be strings?/],
    [[...seed, '--envmap', '{"AWS_REGION":"x"}'], /AWS_REGION is reserved by Lambda/],
    [[...seed, '--envmap', JSON.stringify({BIG: 'x'.repeat(5000)})], /Lambda allows at most 4096 \(4 KB\)/],
    [[...seed, '--memory', '100'], /--memory is 100; it must be a whole number from 128 to 10240/],
    [[...seed, '--memory', '10241'], /from 128 to 10240/],
    [[...seed, '--timeout', '901'], /--timeout is 901; it must be a whole number from 1 to 900/],
    [[...seed, '--timeout', '0'], /from 1 to 900/],
    [
      ['deploy', '--repo_name', 'newfunc', '--function_name', 'bad name!'],
      /"bad name!" is not a valid Lambda function name/,
    ],
    [
      ['deploy', '--repo_name', 'newfunc', '--repo_tag', 'v9', '--function_name', 'NewFuncLambda'],
      /There is no image tagged v9 in ECR .*Did you push\?/,
    ],
    [
      ['deploy', '--repo_name', 'nosuchrepo', '--function_name', 'NewFuncLambda'],
      /There is no repository nosuchrepo in ECR .*Did you push\?/,
    ],
    [seed, /No AWS region is set\. Export AWS_REGION/, {AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined}],
    [
      seed,
      /No AWS credentials were found/,
      {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_PROFILE: undefined,
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_ACCOUNT_ID: undefined,
      },
    ],
    [['invoke', '--function_name', 'NewFuncLambda', '--payload', '{K1: V1}'], /--payload is not valid JSON/],
    [['deploy'], /Nothing to deploy/],
    [[...seed, '--url', 'public'], /--url public is not an auth type\. Give --url none .* or --url iam/],
    [[...seed, '--url', 'none', '--cors-origin', 'localhost:3000'], /--cors-origin localhost:3000 is not an origin/],
    [[...seed, '--url', 'iam', '--cors-origin', 'https://a.example/app'], /is not an origin\. Give \* or a scheme/],
    [[...seed, '--cors-origin', 'https://a.example'], /--cors-origin was given without --url/],
  ]
  for (const [args, pattern, extra] of cases) {
    const run = await faas(args, {env: {...env, ...extra}})
    assertUserError(run, pattern)
    assert.not.match(run.stderr, 'testing', 'a secret reached the output')
  }
  assert.equal(await ours(), {functions: [], roles: []})
})

test('deploy map-reduce: roles and bundles, images by digest, arm64, memory, timeout, wired env', async () => {
  for (const fn of ['driver', 'mapper', 'reducer']) digests[fn] = await pushImage(`map-reduce-${fn}`, 'v1', `${fn}-1`)
  const clients = recordingClients()
  const result = await deploy(new AwsTarget({clients}), settings, {benchmark: 'map-reduce', tag: 'v1'}, quiet)
  assert.equal(result.functions.map((f) => [f.name, f.action]).sort(), [
    ['map-reduce-driver', 'created'],
    ['map-reduce-mapper', 'created'],
    ['map-reduce-reducer', 'created'],
  ])

  for (const fn of ['driver', 'mapper', 'reducer']) {
    const name = `map-reduce-${fn}`
    const got = await lambda.send(new GetFunctionCommand({FunctionName: name}))
    const c = got.Configuration!
    assert.is(c.PackageType, 'Image')
    assert.is(got.Code!.ImageUri, `${REGISTRY}/${name}@${digests[fn]}`)
    assert.equal(c.Architectures, ['arm64'])
    assert.is(c.Role, `arn:aws:iam::${ACCOUNT}:role/${name}-role`)
    assert.is(c.MemorySize, fn === 'driver' ? 512 : 1024)
    assert.is(c.Timeout, fn === 'driver' ? 300 : 120)
    assert.is(c.State, 'Active')

    const role = await iam.send(new GetRoleCommand({RoleName: `${name}-role`}))
    const trust = JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!))
    assert.equal(trust.Statement[0].Principal, {Service: 'lambda.amazonaws.com'})
    const inline = (await iam.send(new ListRolePoliciesCommand({RoleName: `${name}-role`}))).PolicyNames!.sort()
    assert.equal(inline, fn === 'driver' ? ['access_s3', 'invoke_function'] : ['access_s3'])
    const s3 = await iam.send(new GetRolePolicyCommand({RoleName: `${name}-role`, PolicyName: 'access_s3'}))
    const doc = JSON.parse(decodeURIComponent(s3.PolicyDocument!))
    assert.equal(doc.Statement[0].Action, ['s3:*', 's3-object-lambda:*'])
    const attached = (
      await iam.send(new ListAttachedRolePoliciesCommand({RoleName: `${name}-role`}))
    ).AttachedPolicies!.map((p) => p.PolicyArn)
    assert.equal(attached, [BASIC_EXECUTION_ROLE_ARN])
  }
  const driver = (await lambda.send(new GetFunctionCommand({FunctionName: 'map-reduce-driver'}))).Configuration!
  assert.equal(driver.Environment!.Variables, {
    IS_LAMBDA: 'true',
    MAPPER_FUNCTION: 'map-reduce-mapper',
    REDUCER_FUNCTION: 'map-reduce-reducer',
    NUM_MAPPERS: '4',
    NUM_REDUCERS: '2',
  })
})

test('a second deploy reads and writes nothing', async () => {
  const clients = recordingClients()
  const result = await deploy(new AwsTarget({clients}), settings, {benchmark: 'map-reduce', tag: 'v1'}, quiet)
  assert.ok(result.functions.every((f) => f.action === 'unchanged' && f.changed.length === 0))
  assert.equal(writesOf(clients.sent), [])
})

test('a moved tag updates only that function, only its image', async () => {
  const moved = await pushImage('map-reduce-mapper', 'v1', 'mapper-2')
  assert.is.not(moved, digests.mapper)
  const clients = recordingClients()
  const result = await deploy(new AwsTarget({clients}), settings, {benchmark: 'map-reduce', tag: 'v1'}, quiet)
  const byName = Object.fromEntries(result.functions.map((f) => [f.name, f]))
  assert.equal(byName['map-reduce-mapper']!.changed, ['image'])
  assert.is(byName['map-reduce-driver']!.action, 'unchanged')
  assert.is(byName['map-reduce-reducer']!.action, 'unchanged')
  assert.equal(writesOf(clients.sent), ['UpdateFunctionCodeCommand'])
  assert.is(
    (await lambda.send(new GetFunctionCommand({FunctionName: 'map-reduce-mapper'}))).Code!.ImageUri,
    `${REGISTRY}/map-reduce-mapper@${moved}`,
  )
})

test("the seed's flags (and kebab-case aliases): create, a changed env map updates only the env", async () => {
  const seed = [
    'deploy',
    '--repo_name',
    'newfunc',
    '--repo_tag',
    'latest',
    '--function_name',
    'NewFuncLambda',
    '--policies',
    'access_s3,invoke_function',
  ]
  const first = await faasJson([...seed, '--envmap', '{"KEY1":"VAL1"}'], {env})
  assert.is(first.exitCode, 0, first.stderr)
  assert.equal(first.result.functions[0].action, 'created')
  const same = await faasJson(
    [
      'deploy',
      '--repo-name',
      'newfunc',
      '--repo-tag',
      'latest',
      '--function-name',
      'NewFuncLambda',
      '-p',
      'access_s3,invoke_function',
      '-e',
      '{"KEY1":"VAL1"}',
    ],
    {env},
  )
  assert.equal(same.result.functions[0], {
    name: 'NewFuncLambda',
    arn: first.result.functions[0].arn,
    action: 'unchanged',
    changed: [],
  })
  const changed = await faasJson([...seed, '--envmap', '{"KEY1":"VAL2"}'], {env})
  assert.equal(changed.result.functions[0].changed, ['env'])
  const c = (await lambda.send(new GetFunctionCommand({FunctionName: 'NewFuncLambda'}))).Configuration!
  assert.equal(c.Environment!.Variables, {KEY1: 'VAL2'})
  assert.is(c.MemorySize, 1024)
  assert.is(c.Timeout, 120)
  // The seed's default environment.
  const defaults = await faasJson(seed, {env})
  assert.equal(defaults.result.functions[0].changed, ['env'])
  assert.equal(
    (await lambda.send(new GetFunctionCommand({FunctionName: 'NewFuncLambda'}))).Configuration!.Environment!.Variables,
    {IS_LAMBDA: 'true'},
  )
})

test('--handler sets the image command, --reserved-concurrency and --arch x86_64 are applied', async () => {
  const run = await faasJson(
    [
      'deploy',
      '-n',
      'newfunc',
      '-f',
      'OtherHandler',
      '--handler',
      'other.handle',
      '--reserved-concurrency',
      '3',
      '--arch',
      'amd64',
      '--memory',
      '256',
      '--timeout',
      '30',
    ],
    {env},
  )
  assert.is(run.exitCode, 0, run.stderr)
  const got = await lambda.send(new GetFunctionCommand({FunctionName: 'OtherHandler'}))
  assert.equal(got.Configuration!.ImageConfigResponse!.ImageConfig!.Command, ['other.handle'])
  assert.equal(got.Configuration!.Architectures, ['x86_64'])
  assert.is(got.Concurrency!.ReservedConcurrentExecutions, 3)
  assert.is(got.Configuration!.MemorySize, 256)
  assert.is(got.Configuration!.Timeout, 30)
  const again = await faasJson(
    [
      'deploy',
      '-n',
      'newfunc',
      '-f',
      'OtherHandler',
      '--handler',
      'other.handle',
      '--reserved-concurrency',
      '3',
      '--arch',
      'x86_64',
      '--memory',
      '256',
      '--timeout',
      '30',
    ],
    {env},
  )
  assert.is(again.result.functions[0].action, 'unchanged')
  const gone = await faasJson(['destroy', '-f', 'OtherHandler', '--yes'], {env})
  assert.equal(
    gone.result.outcomes.map((o: any) => o.action),
    ['deleted', 'deleted'],
  )
})

test('a role shared through --role is kept while another function still uses it', async () => {
  for (const f of ['SharedA', 'SharedB']) {
    const run = await faas(['deploy', '-n', 'newfunc', '-f', f, '--role', 'shared-role', '-p', 'access_s3'], {env})
    assert.is(run.exitCode, 0, run.stderr)
  }
  const first = await faasJson(['destroy', '-f', 'SharedA', '--yes'], {env})
  assert.equal(first.result.outcomes, [{name: 'SharedA', kind: 'function', action: 'deleted'}])
  assert.ok(await iam.send(new GetRoleCommand({RoleName: 'shared-role'})))
  const second = await faasJson(['destroy', '-f', 'SharedB', '--yes'], {env})
  assert.equal(
    second.result.outcomes.map((o: any) => `${o.kind}:${o.name}:${o.action}`),
    ['function:SharedB:deleted', 'role:shared-role:deleted'],
  )
})

test('--url none|iam: the URL config and the public statements, idempotent; destroy removes the URL', async () => {
  const args = ['deploy', '-n', 'newfunc', '-f', 'UrlFunc', '--url', 'none', '--cors-origin', 'https://app.example']
  const text = await faas(args, {env})
  assert.is(text.exitCode, 0, text.stderr)
  const url = /^ {2}URL (https:\/\/\S+\.lambda-url\.us-east-1\.on\.aws\S*)$/m.exec(text.stdout)?.[1]
  assert.ok(url, `deploy prints the URL: ${text.stdout}`)
  const config = await lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'UrlFunc'}))
  assert.equal([config.FunctionUrl, config.AuthType, config.Cors?.AllowOrigins], [url, 'NONE', ['https://app.example']])
  const policy = JSON.parse((await lambda.send(new GetPolicyCommand({FunctionName: 'UrlFunc'}))).Policy!)
  assert.equal(
    policy.Statement.map((s: {Sid: string; Action: string}) => [s.Sid, s.Action]),
    [
      ['FunctionURLAllowPublicAccess', 'lambda:InvokeFunctionUrl'],
      ['FunctionURLInvokeAllowPublicAccess', 'lambda:InvokeFunction'],
    ],
  )

  const clients = recordingClients()
  const request = {
    repository: 'newfunc',
    functionName: 'UrlFunc',
    policies: [],
    env: {IS_LAMBDA: 'true'},
    tag: 'latest',
  }
  const again = await deploy(
    new AwsTarget({clients}),
    settings,
    {...request, url: 'none', corsOrigins: ['https://app.example']},
    quiet,
  )
  assert.equal([again.functions[0]!.action, again.functions[0]!.url], ['unchanged', url])
  assert.equal(writesOf(clients.sent), [], 'a second deploy writes nothing')

  const iam = await faasJson([...args.slice(0, 5), '--url', 'iam'], {env})
  assert.equal(
    [iam.result.functions[0].action, iam.result.functions[0].changed],
    ['updated', ['url', 'url-permission']],
  )
  const after = await lambda.send(new GetFunctionUrlConfigCommand({FunctionName: 'UrlFunc'}))
  assert.equal([after.FunctionUrl, after.AuthType], [url, 'AWS_IAM'])
  assert.ok(
    await lambda.send(new GetPolicyCommand({FunctionName: 'UrlFunc'})).then(
      () => false,
      (e: Error) => e.name === 'ResourceNotFoundException',
    ),
    'the public statements went',
  )

  const gone = await faasJson(['destroy', '--function_name', 'UrlFunc', '--yes'], {env})
  assert.equal(
    gone.result.outcomes.map((o: any) => [o.kind, o.action]),
    [
      ['url', 'deleted'],
      ['function', 'deleted'],
      ['role', 'deleted'],
    ],
  )
  assert.not.ok((await ours()).functions.includes('UrlFunc'))
})

test('destroy asks first, removes functions and roles (repositories when asked), is idempotent', async () => {
  const refused = await faas(['destroy', 'map-reduce'], {env})
  assertUserError(refused, /without confirmation\. Add --yes/)
  assert.is((await ours()).functions.length, 4)

  const gone = await faasJson(['destroy', 'map-reduce', '--yes'], {env})
  assert.is(gone.exitCode, 0, gone.stderr)
  assert.is(gone.result.outcomes.filter((o: any) => o.action === 'deleted').length, 6)
  const single = await faasJson(['destroy', '--function_name', 'NewFuncLambda', '--yes'], {env})
  assert.equal(
    single.result.outcomes.map((o: any) => [o.kind, o.action]),
    [
      ['function', 'deleted'],
      ['role', 'deleted'],
    ],
  )
  assert.equal(await ours(), {functions: [], roles: []})
  const repos = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName)
  assert.ok(repos.includes('map-reduce-driver'), 'repositories stay without --repositories')

  const again = await faasJson(['destroy', 'map-reduce', '--yes', '--repositories'], {env})
  const actions = again.result.outcomes.map((o: any) => `${o.kind}:${o.action}`)
  assert.equal(
    actions.filter((a: string) => !a.startsWith('repository')),
    ['function:absent', 'function:absent', 'function:absent', 'role:absent', 'role:absent', 'role:absent'],
  )
  assert.equal(
    actions.filter((a: string) => a.startsWith('repository')),
    ['repository:deleted', 'repository:deleted', 'repository:deleted'],
  )
  const left = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map((r) => r.repositoryName)
  assert.equal(left, ['newfunc'])
})

test.run()
