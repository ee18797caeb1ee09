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
import {deploy, destroy} from '../../src/services/deploy.js'
import {LocalTarget} from '../../src/targets/local.js'
import {engine, localServiceSuite} from '../helpers/local-suite.js'
import {waitFor} from '../helpers/wait.js'

const MOTO = process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050'
const sqs: JsonApiTarget = {endpoint: MOTO, region: 'us-east-1', credentials: {accessKeyId: 'x', secretAccessKey: 'x'}}
const test = localServiceSuite('local deploy eventSources', {awsEndpoint: MOTO})
const quiet = () => {}

test('deploy maps the queue (idempotent), a sent message runs the function, destroy unmaps', async (ctx) => {
  const name = `sqsl${randomUUID().slice(0, 6)}`
  const {QueueUrl} = await awsJson<{QueueUrl: string}>(sqs, 'sqs', 'CreateQueue', {QueueName: `${name}-q`})
  const {Attributes} = await awsJson<{Attributes: {QueueArn: string}}>(sqs, 'sqs', 'GetQueueAttributes', {
    QueueUrl,
    AttributeNames: ['QueueArn'],
  })
  const dir = join(mkdtempSync(join(tmpdir(), 'faas-sqsl-')), name)
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'benchmark.json'),
    JSON.stringify({
      name,
      defaults: {memory: 256},
      functions: {consumer: {handler: 'handler.echo', eventSources: [{sqs: Attributes.QueueArn, batchSize: 5}]}},
    }),
  )
  const image = `${name}-consumer:v1`
  await execa('docker', ['tag', ctx.image, image])
  const settings = loadSettings({...process.env, FAAS_TARGET: 'local'})
  const target = new LocalTarget(settings, {endpoint: ctx.service.url, credentials: ctx.service.credentials, engine})
  const request = {benchmark: dir, tag: 'v1', architecture: 'x86_64' as const}
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

test.run()
