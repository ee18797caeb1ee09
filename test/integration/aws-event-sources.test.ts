// A manifest's SQS event sources on AWS: faas deploy makes them event source mappings (and gives the role the SQS
// actions Lambda's poller needs), idempotent; faas destroy removes them. A moto of its own, the real SDK, the CLI.
import {CreateRepositoryCommand, ECRClient, PutImageCommand} from '@aws-sdk/client-ecr'
import {GetRolePolicyCommand, IAMClient} from '@aws-sdk/client-iam'
import {GetFunctionConfigurationCommand, LambdaClient, ListEventSourceMappingsCommand} from '@aws-sdk/client-lambda'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {awsJson} from '../../src/local/emulator-api.js'
import {assertUserError, faas, faasJson, motoEnv, write} from '../helpers/cli.js'
import {startMoto} from '../helpers/moto.js'

test('deploy maps the declared queues (role included), converges on a change, destroy unmaps', async () => {
  const moto = await startMoto()
  const env = {
    ...motoEnv(),
    AWS_ENDPOINT_URL: moto.url,
    FAAS_TARGET: 'aws',
    FAAS_REGISTRY: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
    FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-home-')),
  }
  const config = {
    endpoint: moto.url,
    region: 'us-east-1',
    credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'},
  }
  try {
    const queueArn = async (name: string) => {
      const {QueueUrl} = await awsJson<{QueueUrl: string}>(config, 'sqs', 'CreateQueue', {QueueName: name})
      const got = await awsJson<{Attributes: {QueueArn: string}}>(config, 'sqs', 'GetQueueAttributes', {
        QueueUrl,
        AttributeNames: ['QueueArn'],
      })
      return got.Attributes.QueueArn
    }
    const [orders, audit] = [await queueArn('orders'), await queueArn('audit')]
    await pushImage(new ECRClient(config), 'sqsb-consumer', 'v1')
    const dir = join(mkdtempSync(join(tmpdir(), 'faas-sqs-')), 'sqsb')
    mkdirSync(dir)
    const manifest = (eventSources: unknown) =>
      write(
        join(dir, 'benchmark.json'),
        JSON.stringify({name: 'sqsb', defaults: {memory: 256}, functions: {consumer: {eventSources}}}),
      )
    const args = ['deploy', dir, '--tag', 'v1', '--arch', 'x86_64']
    const deploy = () => faasJson(args, {env})
    const lambda = new LambdaClient(config)
    const mappings = async () =>
      (
        (await lambda.send(new ListEventSourceMappingsCommand({FunctionName: 'sqsb-consumer'}))).EventSourceMappings ??
        []
      )
        .map((m) => ({
          arn: m.EventSourceArn,
          batch: m.BatchSize,
          window: m.MaximumBatchingWindowInSeconds,
          types: m.FunctionResponseTypes ?? [],
          concurrency: m.ScalingConfig?.MaximumConcurrency,
        }))
        .sort((a, b) => a.arn!.localeCompare(b.arn!))

    manifest([{sqs: orders, batchSize: 20}])
    assertUserError(await faas(args, {env}), /batchSize" over 10 needs a "batchingWindow" of at least 1 second/)
    manifest([{sqs: 'orders'}])
    assertUserError(await faas(args, {env}), /"sqs" must be a queue's ARN/)

    manifest([{sqs: orders, batchSize: 5, reportBatchItemFailures: true, maximumConcurrency: 3}, {sqs: audit}])
    const first = await deploy()
    assert.is(first.exitCode, 0, first.stderr)
    assert.ok(first.result.functions[0].changed.includes('event-source'), JSON.stringify(first.result))
    assert.equal(await mappings(), [
      {arn: audit, batch: 10, window: 0, types: [], concurrency: undefined},
      {arn: orders, batch: 5, window: 0, types: ['ReportBatchItemFailures'], concurrency: 3},
    ])
    const policy = await new IAMClient(config).send(
      new GetRolePolicyCommand({RoleName: 'sqsb-consumer-role', PolicyName: 'sqs_event_sources'}),
    )
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument!))
    assert.equal(document.Statement[0].Action, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'])
    assert.equal(document.Statement[0].Resource, [orders, audit])

    const again = await deploy()
    assert.equal([again.result.functions[0].action, again.result.functions[0].changed], ['unchanged', []])

    manifest([{sqs: orders, batchSize: 100, batchingWindow: 2}])
    const changed = await deploy()
    assert.ok(changed.result.functions[0].changed.includes('event-source'), JSON.stringify(changed.result))
    assert.equal(await mappings(), [{arn: orders, batch: 100, window: 2, types: [], concurrency: undefined}])

    // A queue faas makes: created with six times the function's timeout as visibility timeout, then mapped.
    manifest([
      {sqs: orders, batchSize: 100, batchingWindow: 2},
      {queue: 'sqsb-jobs', batchSize: 2},
    ])
    const made = await deploy()
    assert.is(made.exitCode, 0, made.stderr)
    assert.ok(made.result.functions[0].changed.includes('queue'), JSON.stringify(made.result))
    const jobs = await awsJson<{QueueUrl: string}>(config, 'sqs', 'GetQueueUrl', {QueueName: 'sqsb-jobs'})
    const {Attributes} = await awsJson<{Attributes: {QueueArn: string; VisibilityTimeout: string}}>(
      config,
      'sqs',
      'GetQueueAttributes',
      {QueueUrl: jobs.QueueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout']},
    )
    const timeoutS = (await lambda.send(new GetFunctionConfigurationCommand({FunctionName: 'sqsb-consumer'}))).Timeout!
    assert.is(Number(Attributes.VisibilityTimeout), Math.max(30, 6 * timeoutS))
    assert.equal(
      (await mappings()).map((m) => [m.arn, m.batch]),
      [
        [orders, 100],
        [Attributes.QueueArn, 2],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    )
    const madeAgain = await deploy()
    assert.equal([madeAgain.result.functions[0].action, madeAgain.result.functions[0].changed], ['unchanged', []])

    const destroyed = await faasJson(['destroy', dir, '--queues', '--yes'], {env})
    assert.is(destroyed.exitCode, 0, destroyed.stderr)
    const kinds = destroyed.result.outcomes.map((o: {kind: string; action: string}) => `${o.kind} ${o.action}`)
    assert.ok(kinds.includes('mapping deleted') && kinds.includes('queue deleted'), destroyed.stdout)
    assert.equal(await mappings(), [])
    const gone = await awsJson(config, 'sqs', 'GetQueueUrl', {QueueName: 'sqsb-jobs'}).then(
      () => 'still there',
      (error: Error) => error.message,
    )
    assert.match(gone, /NonExistentQueue|QueueDoesNotExist|does not exist/)
    const twice = await faas(['destroy', '--function_name', 'sqsb-consumer', '--yes'], {env})
    assert.is(twice.exitCode, 0, twice.stderr)
  } finally {
    await moto.stop()
  }
})

/** Puts an image manifest under repository:tag in moto's ECR, as a push would. */
async function pushImage(ecr: ECRClient, repository: string, tag: string): Promise<void> {
  await ecr.send(new CreateRepositoryCommand({repositoryName: repository}))
  const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 1000, digest: digest(repository)},
    layers: [{mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1000, digest: digest(tag)}],
  }
  await ecr.send(
    new PutImageCommand({repositoryName: repository, imageTag: tag, imageManifest: JSON.stringify(manifest)}),
  )
}

test.run()
