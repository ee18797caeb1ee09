// Issue 10: the local service lets in only its user, functions reach only what Lambda would, and no
// secret shows. Real service, real containers, real SDKs (JS and boto3), moto for STS.
import {CreateFunctionCommand, InvokeCommand, LambdaClient, ListFunctionsCommand} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {randomBytes} from 'node:crypto'
import {request as httpRequest} from 'node:http'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {findContainersByLabel} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import {signRequest} from '../../src/local/sigv4.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {stack} from '../helpers/cli.js'
import {lambdaClient} from '../helpers/local.js'
import {FUNCTION_LABEL} from '../../src/local/contracts.js'

const engine = new DockerEngine()
const marker = `MARKER${randomBytes(8).toString('hex')}`
const test = suite<{service: LocalService; lambda: LambdaClient; image: string}>('local security')
const saved = process.env.AWS_ENDPOINT_URL_STS

test.before(async (ctx) => {
  ctx.image = await fixtureImage(engine)
  // --pass-credentials with the user's long-lived keys (the marker): STS (moto) exchanges them for a session.
  process.env.AWS_ENDPOINT_URL_STS = stack.awsEndpoint
  ctx.service = await new LocalService(engine, {
    port: 0,
    idleTimeoutMs: 60_000,
    s3Endpoint: stack.awsEndpoint,
    credentials: {accessKeyId: `AKIA${marker}`, secretAccessKey: marker},
  }).start()
  ctx.lambda = lambdaClient(ctx.service)
})

test.after(async (ctx) => {
  await ctx.service?.close()
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS
  else process.env.AWS_ENDPOINT_URL_STS = saved
})

/** One raw HTTP request with exactly these headers (fetch would not let a test set Host). */
function raw(
  url: string,
  init: {method: string; headers: Record<string, string>; body?: string},
): Promise<{status: number; type?: string; body: string}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {method: init.method, headers: init.headers}, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () =>
        resolve({status: res.statusCode!, type: res.headers['x-amzn-errortype'] as string | undefined, body}),
      )
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

const createBody = (ctx: {image: string}, name: string) =>
  JSON.stringify({
    FunctionName: name,
    Role: 'arn:aws:iam::000000000000:role/x',
    PackageType: 'Image',
    Code: {ImageUri: ctx.image},
    ImageConfig: {Command: ['handler.probe']},
  })

async function signed(
  ctx: {service: LocalService},
  path: string,
  body: string,
  options: {host?: string; secret?: string; accessKeyId?: string; date?: Date} = {},
) {
  const url = new URL(path, ctx.service.url)
  if (options.host) url.host = options.host
  const {SignatureV4} = await import('@smithy/signature-v4')
  const {Hash} = await import('@smithy/hash-node')
  const credentials = {
    accessKeyId: options.accessKeyId ?? ctx.service.credentials.accessKeyId,
    secretAccessKey: options.secret ?? ctx.service.credentials.secretAccessKey,
  }
  if (!options.date)
    return signRequest(
      url,
      {method: 'POST', body: Buffer.from(body), headers: {'content-type': 'application/json'}},
      credentials,
      'us-east-1',
    )
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 'lambda',
    sha256: Hash.bind(null, 'sha256') as never,
  })
  const out = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: {host: url.host, 'content-type': 'application/json'},
      body,
    } as never,
    {signingDate: options.date},
  )
  return (out as unknown as {headers: Record<string, string>}).headers
}

test("cross-site, wrong Host, missing, wrong or stale signature: each gets Lambda's 403, nothing made", async (ctx) => {
  const path = '/2015-03-31/functions'
  const url = `${ctx.service.url}${path}`
  // A web page's form/fetch: text/plain POST with an Origin (even carrying a valid signature, it is refused).
  const crossSite = await raw(url, {
    method: 'POST',
    headers: {
      ...(await signed(ctx, path, createBody(ctx, 'xsite'))),
      'content-type': 'text/plain',
      origin: 'http://evil.example',
    },
    body: createBody(ctx, 'xsite'),
  })
  assert.is(crossSite.status, 403)
  assert.is(crossSite.type, 'AccessDeniedException')
  // DNS rebinding: the browser names the attacker's host; the signature is right for that host.
  const rebound = await raw(url, {
    method: 'POST',
    headers: {
      ...(await signed(ctx, path, createBody(ctx, 'rebind'), {host: `evil.example:${ctx.service.options.port}`})),
    },
    body: createBody(ctx, 'rebind'),
  })
  assert.is(rebound.status, 403)
  assert.match(rebound.body, /answers only as 127\.0\.0\.1/)
  const unsigned = await raw(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: createBody(ctx, 'unsigned'),
  })
  assert.is(unsigned.status, 403)
  assert.is(unsigned.type, 'MissingAuthenticationTokenException')
  assert.equal(JSON.parse(unsigned.body).message, 'Missing Authentication Token')
  const wrongSecret = await raw(url, {
    method: 'POST',
    headers: await signed(ctx, path, createBody(ctx, 'wrong'), {secret: 'not-the-secret'}),
    body: createBody(ctx, 'wrong'),
  })
  assert.is(wrongSecret.status, 403)
  assert.is(wrongSecret.type, 'InvalidSignatureException')
  assert.match(
    JSON.parse(wrongSecret.body).message,
    /^The request signature we calculated does not match the signature you provided/,
  )
  const unknownKey = await raw(url, {
    method: 'POST',
    headers: await signed(ctx, path, createBody(ctx, 'unknown'), {accessKeyId: 'AKIAUNKNOWN000000000'}),
    body: createBody(ctx, 'unknown'),
  })
  assert.is(unknownKey.type, 'UnrecognizedClientException')
  assert.equal(JSON.parse(unknownKey.body).message, 'The security token included in the request is invalid.')
  const stale = await raw(url, {
    method: 'POST',
    headers: await signed(ctx, path, createBody(ctx, 'stale'), {date: new Date(Date.now() - 10 * 60_000)}),
    body: createBody(ctx, 'stale'),
  })
  assert.is(stale.type, 'InvalidSignatureException')
  assert.match(stale.body, /Signature expired/)
  // A signed body swapped for another: the payload hash no longer matches.
  const swapped = await raw(url, {
    method: 'POST',
    headers: await signed(ctx, path, createBody(ctx, 'one')),
    body: createBody(ctx, 'two'),
  })
  assert.is(swapped.type, 'InvalidSignatureException')
  // Status, logs and shutdown are signed too; the identity answer says nothing but a proof.
  assert.is((await fetch(`${ctx.service.url}/faas/health`)).status, 403)
  assert.is((await fetch(`${ctx.service.url}/faas/shutdown`, {method: 'POST'})).status, 403)
  const identity = (await (await fetch(`${ctx.service.url}/faas/identity?nonce=${'ab'.repeat(16)}`)).json()) as object
  assert.equal(Object.keys(identity).sort(), ['proof', 'region', 'service'])

  assert.equal(
    (await ctx.lambda.send(new ListFunctionsCommand({}))).Functions,
    [],
    'the JS SDK with the right pair works, and nothing was created',
  )
  const {accessKeyId, secretAccessKey} = ctx.service.credentials
  const py = await execa('/var/lib/faas-stack/venv/bin/python', [
    '-c',
    'import sys, boto3\nc = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", ' +
      'aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])\nprint(len(c.list_functions()["Functions"]))',
    ctx.service.url,
    accessKeyId,
    secretAccessKey,
  ])
  assert.is(py.stdout.trim(), '0', 'boto3 with the right pair works')
})

test("a function cannot reach another's Runtime API, the unsigned control API, metadata or AWS keys", async (ctx) => {
  for (const name of ['victim', 'intruder'])
    await ctx.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: 'r',
        PackageType: 'Image',
        Code: {ImageUri: ctx.image},
        ImageConfig: {Command: ['handler.probe']},
        MemorySize: 256,
        Timeout: 30,
        Environment: {Variables: {APP_SECRET: marker}},
      }),
    )
  const call = async (name: string, event: unknown) =>
    JSON.parse(
      Buffer.from(
        (await ctx.lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from(JSON.stringify(event))})))
          .Payload!,
      ).toString(),
    )
  const victim = await call('victim', {})
  const serviceUrl = ctx.service.options.grants!.serviceUrl
  const out = await call('intruder', {
    http: {
      next: {url: `http://${victim.runtime_api}/2018-06-01/runtime/invocation/next`},
      control: {url: `${serviceUrl}/2015-03-31/functions`},
      create: {
        url: `${serviceUrl}/2015-03-31/functions`,
        method: 'POST',
        body: createBody(ctx, 'from-inside'),
        headers: {'Content-Type': 'application/json'},
      },
      loopback: {url: `http://127.0.0.1:${ctx.service.options.port}/2015-03-31/functions`, timeout: 3},
    },
    tcp: {imds: {host: '169.254.169.254', port: 80, timeout: 2}},
    credentials: true,
    list_functions: true,
    secret_env: 'APP_SECRET',
  })
  assert.is(out.next.status, 403, `another environment's next: ${JSON.stringify(out.next)}`)
  assert.is(out.control.status, 403, 'the control API without a signature')
  assert.match(out.control.body, /MissingAuthenticationToken|Missing Authentication Token/)
  assert.is(out.create.status, 403)
  assert.ok(out.loopback.error, "the host's loopback (where the service listens) is not the function's")
  assert.ok(out.imds.error, `instance metadata unreachable: ${JSON.stringify(out.imds)}`)
  assert.is(out.list_functions.code, 'AccessDeniedException', 'function credentials may invoke, not manage')
  assert.is(out.credentials.method, 'container-role', 'credentials come from the container-credentials endpoint')
  assert.ok(out.credentials.token, 'session credentials')
  assert.not.match(out.credentials.access_key, marker, "not the user's key")
  assert.not.ok(out.credentials.secret.includes(marker), "not the user's secret")
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
    assert.not.ok(out.env_keys.includes(key), `${key} is not in the function's environment`)
  assert.is(out.secret_env, marker, 'the function still sees its own variables')
  assert.equal(
    (await ctx.lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName).sort(),
    ['intruder', 'victim'],
    'nothing was created from inside',
  )
  // From the host too, the Runtime API serves only its environment's container.
  assert.is((await fetch(`http://${victim.runtime_api}/2018-06-01/runtime/invocation/next`)).status, 403)

  const ours = await findContainersByLabel(engine, `dev.faas.local=${ctx.service.options.instanceId}`)
  const ids = ours.map((c) => c.id)
  assert.ok(ours.filter((c) => c.labels[FUNCTION_LABEL]).length >= 2)
  const inspected = (await execa('docker', ['inspect', ...ids])).stdout
  assert.not.ok(
    inspected.includes(marker),
    "docker inspect shows neither the function's secret variable nor the user's keys",
  )
  assert.not.ok(inspected.includes('AWS_CONTAINER_AUTHORIZATION_TOKEN='), 'nor the credentials token')
  const info = JSON.parse(inspected).find(
    (c: {Config: {Labels: Record<string, string>}}) => c.Config.Labels[FUNCTION_LABEL],
  )
  assert.ok(info.HostConfig.CapDrop.includes('NET_RAW'))
  assert.ok(info.HostConfig.SecurityOpt.includes('no-new-privileges'))
  assert.is(info.HostConfig.NetworkMode, 'faas-functions')
})

test('functions invoke functions with their session credentials (boto3 in the container)', async (ctx) => {
  await ctx.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'chain',
      Role: 'r',
      PackageType: 'Image',
      Code: {ImageUri: ctx.image},
      ImageConfig: {Command: ['handler.invoke_other']},
      MemorySize: 256,
      Timeout: 30,
    }),
  )
  const out = await ctx.lambda.send(
    new InvokeCommand({FunctionName: 'chain', Payload: Buffer.from(JSON.stringify({target: 'victim', payload: {}}))}),
  )
  const body = JSON.parse(Buffer.from(out.Payload!).toString())
  assert.is(out.FunctionError, undefined, JSON.stringify(body))
  assert.ok(body.runtime_api, 'the chained call reached the other function')
})

test.run()
