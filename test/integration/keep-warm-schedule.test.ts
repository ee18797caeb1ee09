import {GetRoleCommand, GetRolePolicyCommand, IAMClient} from '@aws-sdk/client-iam'
import {GetScheduleCommand, SchedulerClient} from '@aws-sdk/client-scheduler'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {deleteKeepWarmSchedule, ensureKeepWarmSchedule, rateExpression} from '../../src/aws/scheduler.js'

/** The AWS keep-warm schedule and its role, created and removed against the moto emulator. */
const endpoint = process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050'
const config = {endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}}

test('rate expressions: Scheduler counts whole minutes', () => {
  assert.is(rateExpression(2), 'rate(1 minute)')
  assert.is(rateExpression(60), 'rate(1 minute)')
  assert.is(rateExpression(61), 'rate(2 minutes)')
  assert.is(rateExpression(300), 'rate(5 minutes)')
})

test('a keep-warm schedule: created with its role, converged on a second call, removed with its role', async () => {
  const clients = {scheduler: new SchedulerClient(config), iam: new IAMClient(config)}
  const name = `h7-keep-warm-${process.pid}`
  const functionArn = `arn:aws:lambda:us-east-1:123456789012:function:${name}`
  const schedule = await ensureKeepWarmSchedule(clients, {
    name,
    functionArn,
    everyS: 90,
    payload: {'faas-keep-warm': true},
  })
  try {
    assert.is(schedule.expression, 'rate(2 minutes)')
    const read = await clients.scheduler.send(new GetScheduleCommand({Name: name}))
    assert.is(read.ScheduleExpression, 'rate(2 minutes)')
    assert.is(read.Target?.Arn, functionArn)
    assert.is(read.Target?.RoleArn, schedule.roleArn)
    assert.equal(JSON.parse(read.Target!.Input!), {'faas-keep-warm': true})
    const role = await clients.iam.send(new GetRoleCommand({RoleName: schedule.roleName}))
    assert.match(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!), /scheduler\.amazonaws\.com/)
    const policy = await clients.iam.send(
      new GetRolePolicyCommand({RoleName: schedule.roleName, PolicyName: 'invoke-function'}),
    )
    assert.match(decodeURIComponent(policy.PolicyDocument!), /lambda:InvokeFunction/)

    // Idempotent: a second call updates the schedule in place.
    const again = await ensureKeepWarmSchedule(clients, {name, functionArn, everyS: 30, payload: {ping: 1}})
    assert.is(again.roleArn, schedule.roleArn)
    assert.is((await clients.scheduler.send(new GetScheduleCommand({Name: name}))).ScheduleExpression, 'rate(1 minute)')
  } finally {
    await deleteKeepWarmSchedule(clients, schedule)
  }
  const gone = await clients.scheduler.send(new GetScheduleCommand({Name: name})).then(
    () => 'present',
    (e) => e.name,
  )
  assert.is(gone, 'ResourceNotFoundException')
  const roleGone = await clients.iam.send(new GetRoleCommand({RoleName: schedule.roleName})).then(
    () => 'present',
    (e) => e.name,
  )
  assert.match(roleGone, /NoSuchEntity/)
  // Removing again is fine (already gone).
  await deleteKeepWarmSchedule(clients, schedule)
})

test.run()
