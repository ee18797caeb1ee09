import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam'
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  UpdateScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler'

import {aws} from './errors.js'
import {MANAGED_TAG} from './iam.js'

/**
 * Keep-warm schedules on AWS: an EventBridge Scheduler schedule that invokes a function every N
 * minutes with a fixed event, and the role the scheduler assumes to do it. faas creates both before
 * an experiment's load and removes both afterwards.
 */

const SCHEDULER_TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'scheduler.amazonaws.com'}, Action: 'sts:AssumeRole'}],
}
const POLICY_NAME = 'invoke-function'

const missing = (error: unknown) =>
  ['ResourceNotFoundException', 'NoSuchEntityException', 'NoSuchEntity'].includes(
    (error as {name?: string})?.name ?? '',
  )

/** Scheduler's finest rate is one minute: seconds are rounded up to whole minutes. */
export const rateExpression = (everyS: number): string => {
  const minutes = Math.max(1, Math.ceil(everyS / 60))
  return `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`
}

export interface KeepWarmSchedule {
  name: string
  roleName: string
  roleArn: string
  expression: string
}

/** Creates (or updates to match) the schedule and its role. Idempotent. */
export async function ensureKeepWarmSchedule(
  clients: {scheduler: SchedulerClient; iam: IAMClient},
  options: {name: string; functionArn: string; everyS: number; payload: unknown},
): Promise<KeepWarmSchedule> {
  const {scheduler, iam} = clients
  const roleName = `${options.name}-scheduler`.slice(0, 64)
  const role =
    (await aws(`read IAM role ${roleName} (iam:GetRole)`, () =>
      iam.send(new GetRoleCommand({RoleName: roleName})).catch((e) => (missing(e) ? undefined : Promise.reject(e))),
    )) ??
    (await aws(`create IAM role ${roleName} (iam:CreateRole)`, () =>
      iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(SCHEDULER_TRUST_POLICY),
          Description: 'Lets EventBridge Scheduler invoke a faas keep-warm target',
          Tags: [MANAGED_TAG],
        }),
      ),
    ))
  const roleArn = role.Role!.Arn!
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [options.functionArn, `${options.functionArn}:*`]},
    ],
  }
  await aws(`write the role policy of ${roleName} (iam:PutRolePolicy)`, () =>
    iam.send(
      new PutRolePolicyCommand({RoleName: roleName, PolicyName: POLICY_NAME, PolicyDocument: JSON.stringify(policy)}),
    ),
  )
  const expression = rateExpression(options.everyS)
  const input = {
    Name: options.name,
    ScheduleExpression: expression,
    FlexibleTimeWindow: {Mode: 'OFF' as const},
    Target: {Arn: options.functionArn, RoleArn: roleArn, Input: JSON.stringify(options.payload ?? {})},
    Description: 'faas keep-warm pings',
    State: 'ENABLED' as const,
  }
  const existing = await aws(`read schedule ${options.name} (scheduler:GetSchedule)`, () =>
    scheduler
      .send(new GetScheduleCommand({Name: options.name}))
      .catch((e) => (missing(e) ? undefined : Promise.reject(e))),
  )
  if (existing)
    await aws(`update schedule ${options.name} (scheduler:UpdateSchedule)`, () =>
      scheduler.send(new UpdateScheduleCommand(input)),
    )
  else
    await aws(`create schedule ${options.name} (scheduler:CreateSchedule)`, () =>
      scheduler.send(new CreateScheduleCommand(input)),
    )
  return {name: options.name, roleName, roleArn, expression}
}

/** Removes the schedule and its role; what is already gone is fine. */
export async function deleteKeepWarmSchedule(
  clients: {scheduler: SchedulerClient; iam: IAMClient},
  schedule: {name: string; roleName: string},
): Promise<void> {
  const ignoreMissing = (e: unknown) => (missing(e) ? undefined : Promise.reject(e))
  await aws(`delete schedule ${schedule.name} (scheduler:DeleteSchedule)`, () =>
    clients.scheduler.send(new DeleteScheduleCommand({Name: schedule.name})).catch(ignoreMissing),
  )
  await aws(`delete the role policy of ${schedule.roleName} (iam:DeleteRolePolicy)`, () =>
    clients.iam
      .send(new DeleteRolePolicyCommand({RoleName: schedule.roleName, PolicyName: POLICY_NAME}))
      .catch(ignoreMissing),
  )
  await aws(`delete IAM role ${schedule.roleName} (iam:DeleteRole)`, () =>
    clients.iam.send(new DeleteRoleCommand({RoleName: schedule.roleName})).catch(ignoreMissing),
  )
}
