// A manifest's "eventSources" on the local target: the same deploy/destroy code as on AWS, against the local service,
// whose mapping polls a queue of the stack's emulator; a message sent to the queue runs the function.
import {ListEventSourceMappingsCommand} from '@aws-sdk/client-lambda'
import {execa} from 'execa'
import {randomUUID} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as assert from 'uvu/assert'

import {loadSettings} from '../../src/core/settings.js'
import {awsJson, type JsonApiTarget} from '../../src/local/emulator-api.js'
import {deploy, destroy, destroyPlan} from '../../src/services/deploy.js'
import {LocalTarget} from '../../src/targets/local.js'
import {engine, localServiceSuite, type LocalSuiteContext} from '../helpers/local-suite.js'
import {waitFor} from '../helpers/wait.js'

const MOTO = process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050'
const sqs: JsonApiTarget = {endpoint: MOTO, region: 'us-east-1', credentials: {accessKeyId: 'x', secretAccessKey: 'x'}}
const test = localServiceSuite('local deploy eventSources', {awsEndpoint: MOTO})
const quiet = () => {}

/** A benchmark folder whose one function, consumer, has `eventSources`; its image tagged; a target on the service. */
async function consumerBenchmark(ctx: LocalSuiteContext, name: string, defaults: object, eventSources: object[]) {
  const dir = join(mkdtempSync(join(tmpdir(), 'faas-sqs-deploy-')), name)
  mkdirSync(dir)
  const functions = {consumer: {handler: 'handler.echo', eventSources}}
  writeFileSync(join(dir, 'benchmark.json'), JSON.stringify({name, defaults, functions}))
  const image = `${name}-consumer:v1`
  await execa('docker', ['tag', ctx.image, image])
  const settings = loadSettings({...process.env, FAAS_TARGET: 'local'})
  const target = new LocalTarget(settings, {endpoint: ctx.service.url, credentials: ctx.service.credentials, engine})
  return {dir, image, settings, target, request: {benchmark: dir, tag: 'v1', architecture: 'x86_64' as const}}
}

test('deploy maps the queue (idempotent), a sent message runs the function, destroy unmaps', async (ctx) => {
  const name = `sqsl${randomUUID().slice(0, 6)}`
  const {QueueUrl} = await awsJson<{QueueUrl: string}>(sqs, 'sqs', 'CreateQueue', {QueueName: `${name}-q`})
  const {Attributes} = await awsJson<{Attributes: {QueueArn: string}}>(sqs, 'sqs', 'GetQueueAttributes', {
    QueueUrl,
    AttributeNames: ['QueueArn'],
  })
  const {dir, image, settings, target, request} = await consumerBenchmark(ctx, name, {memory: 256}, [
    {sqs: Attributes.QueueArn, batchSize: 5},
  ])
  try {
    const first = (await deploy(target, settings, request, quiet)).functions[0]!
    assert.ok(first.changed.includes('event-source'), JSON.stringify(first))
    const again = (await deploy(target, settings, request, quiet)).functions[0]!
    assert.equal([again.action, again.changed], ['unchanged', []])
    const fn = `${name}-consumer`
    const listed = await ctx.lambda.send(new ListEventSourceMappingsCommand({FunctionName: fn}))
    assert.equal(
      listed.EventSourceMappings?.map((m) => [m.EventSourceArn, m.BatchSize]),
      [[Attributes.QueueArn, 5]],
    )
    await awsJson(sqs, 'sqs', 'SendMessage', {QueueUrl, MessageBody: 'hello from the queue'})
    await waitFor('the message to run the function', async () =>
      (ctx.service.logs.get(fn) ?? []).some((l) => l.startsWith('REPORT')),
    )
    const plan = {functions: [fn], repositories: []}
    const outcomes = await destroy(target, plan, {roles: false, repositories: false}, quiet)
    assert.ok(
      outcomes.some((o) => o.kind === 'mapping' && o.action === 'deleted'),
      JSON.stringify(outcomes),
    )
  } finally {
    await execa('docker', ['rmi', image], {reject: false})
    await awsJson(sqs, 'sqs', 'DeleteQueue', {QueueUrl}).catch(() => undefined)
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a queue faas makes: made where the service polls, mapped, fed, deleted by destroy --queues', async (ctx) => {
  const name = `sqsm${randomUUID().slice(0, 6)}`
  const queue = `${name}-jobs`
  const {dir, image, settings, target, request} = await consumerBenchmark(ctx, name, {memory: 256, timeout: 10}, [
    {queue, batchSize: 1},
  ])
  try {
    const first = (await deploy(target, settings, request, quiet)).functions[0]!
    assert.ok(first.changed.includes('queue') && first.changed.includes('event-source'), JSON.stringify(first))
    const {QueueUrl} = await awsJson<{QueueUrl: string}>(sqs, 'sqs', 'GetQueueUrl', {QueueName: queue})
    const {Attributes} = await awsJson<{Attributes: {VisibilityTimeout: string}}>(sqs, 'sqs', 'GetQueueAttributes', {
      QueueUrl,
      AttributeNames: ['VisibilityTimeout'],
    })
    assert.is(Attributes.VisibilityTimeout, '60', "six times the function's timeout")
    const again = (await deploy(target, settings, request, quiet)).functions[0]!
    assert.equal([again.action, again.changed], ['unchanged', []])
    await awsJson(sqs, 'sqs', 'SendMessage', {QueueUrl, MessageBody: 'to the queue faas made'})
    const fn = `${name}-consumer`
    await waitFor('the message to run the function', async () =>
      (ctx.service.logs.get(fn) ?? []).some((l) => l.startsWith('REPORT')),
    )
    const plan = await destroyPlan({benchmark: dir, queues: true})
    assert.equal(plan.queues, [queue])
    const outcomes = await destroy(target, plan, {roles: false, repositories: false}, quiet)
    outcomes.push(...(await target.destroyQueues(plan.queues, quiet)))
    assert.ok(
      outcomes.some((o) => o.kind === 'queue' && o.name === queue && o.action === 'deleted'),
      JSON.stringify(outcomes),
    )
    const twice = await target.destroyQueues(plan.queues, quiet)
    assert.equal(twice, [{name: queue, kind: 'queue', action: 'absent'}])
  } finally {
    await execa('docker', ['rmi', image], {reject: false})
    const left = await awsJson<{QueueUrl: string}>(sqs, 'sqs', 'GetQueueUrl', {QueueName: queue}).catch(() => undefined)
    if (left) await awsJson(sqs, 'sqs', 'DeleteQueue', {QueueUrl: left.QueueUrl}).catch(() => undefined)
    rmSync(dir, {recursive: true, force: true})
  }
})

test.run()
