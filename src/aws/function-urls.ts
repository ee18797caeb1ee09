import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  RemovePermissionCommand,
  UpdateFunctionUrlConfigCommand,
  type Cors,
  type LambdaClient,
} from '@aws-sdk/client-lambda'

import {aws} from './errors.js'
import {withRetries, type RetryPolicy} from './lambda.js'

/**
 * The Function URL calls faas makes (on AWS and on the local service alike): read, create and update a
 * function's URL config, and the resource-policy statements a public URL needs.
 */

type AwsError = {name?: string}

export interface UrlConfigState {
  url: string
  authType: 'NONE' | 'AWS_IAM'
  cors?: Cors
}

/** The unqualified function's URL config; undefined when it has none. */
export async function getUrlConfig(lambda: LambdaClient, name: string): Promise<UrlConfigState | undefined> {
  const out = await aws(`read the URL of ${name} (lambda:GetFunctionUrlConfig)`, () =>
    lambda.send(new GetFunctionUrlConfigCommand({FunctionName: name})).catch((error: AwsError) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
  if (!out?.FunctionUrl) return undefined
  return {url: out.FunctionUrl, authType: out.AuthType === 'AWS_IAM' ? 'AWS_IAM' : 'NONE', cors: out.Cors}
}

/** CreateFunctionUrlConfig (BUFFERED); an update in progress is waited out. */
export async function createUrlConfig(
  lambda: LambdaClient,
  name: string,
  config: {authType: 'NONE' | 'AWS_IAM'; cors?: Cors},
  retry: RetryPolicy,
): Promise<string> {
  const out = await withRetries(
    lambda,
    `create the URL of ${name} (lambda:CreateFunctionUrlConfig)`,
    name,
    () =>
      lambda.send(
        new CreateFunctionUrlConfigCommand({
          FunctionName: name,
          AuthType: config.authType,
          Cors: config.cors,
          InvokeMode: 'BUFFERED',
        }),
      ),
    retry,
  )
  return out.FunctionUrl!
}

export async function updateUrlConfig(
  lambda: LambdaClient,
  name: string,
  config: {authType: 'NONE' | 'AWS_IAM'; cors: Cors},
  retry: RetryPolicy,
): Promise<void> {
  await withRetries(
    lambda,
    `update the URL of ${name} (lambda:UpdateFunctionUrlConfig)`,
    name,
    () =>
      lambda.send(
        new UpdateFunctionUrlConfigCommand({FunctionName: name, AuthType: config.authType, Cors: config.cors}),
      ),
    retry,
  )
}

/** DeleteFunctionUrlConfig: 'absent' when there was none (the policy statements go with the function). */
export async function deleteUrlConfig(
  lambda: LambdaClient,
  name: string,
  retry: RetryPolicy,
): Promise<'deleted' | 'absent'> {
  return withRetries(
    lambda,
    `delete the URL of ${name} (lambda:DeleteFunctionUrlConfig)`,
    name,
    () =>
      lambda.send(new DeleteFunctionUrlConfigCommand({FunctionName: name})).then(
        () => 'deleted' as const,
        (error: AwsError) => {
          if (error?.name === 'ResourceNotFoundException') return 'absent' as const
          throw error
        },
      ),
    retry,
  )
}

/** The statement ids of the unqualified function's resource policy (none when it has no policy). */
export async function policyStatementIds(lambda: LambdaClient, name: string): Promise<string[]> {
  const out = await aws(`read the resource policy of ${name} (lambda:GetPolicy)`, () =>
    lambda.send(new GetPolicyCommand({FunctionName: name})).catch((error: AwsError) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
  if (!out?.Policy) return []
  const policy = JSON.parse(out.Policy) as {Statement?: Array<{Sid?: string}>}
  return (policy.Statement ?? []).flatMap((s) => (s.Sid ? [s.Sid] : []))
}

/** The two statements Lambda requires of a public (NONE) URL since October 2025, under the console's ids. */
export const PUBLIC_URL_STATEMENTS = [
  {
    StatementId: 'FunctionURLAllowPublicAccess',
    Action: 'lambda:InvokeFunctionUrl',
    Principal: '*',
    FunctionUrlAuthType: 'NONE' as const,
  },
  {
    StatementId: 'FunctionURLInvokeAllowPublicAccess',
    Action: 'lambda:InvokeFunction',
    Principal: '*',
    InvokedViaFunctionUrl: true,
  },
]

export async function addPermission(
  lambda: LambdaClient,
  name: string,
  statement: (typeof PUBLIC_URL_STATEMENTS)[number],
  retry: RetryPolicy,
): Promise<void> {
  await withRetries(
    lambda,
    `allow ${statement.Action} on ${name} (lambda:AddPermission)`,
    name,
    () =>
      lambda.send(new AddPermissionCommand({FunctionName: name, ...statement})).catch((error: AwsError) => {
        // Another deploy added it first: what we wanted is there.
        if (error?.name === 'ResourceConflictException' && /already exists/i.test(String((error as Error).message)))
          return undefined
        throw error
      }),
    retry,
  )
}

export async function removePermission(
  lambda: LambdaClient,
  name: string,
  statementId: string,
  retry: RetryPolicy,
): Promise<void> {
  await withRetries(
    lambda,
    `remove statement ${statementId} from ${name} (lambda:RemovePermission)`,
    name,
    () =>
      lambda
        .send(new RemovePermissionCommand({FunctionName: name, StatementId: statementId}))
        .catch((error: AwsError) => {
          if (error?.name === 'ResourceNotFoundException') return undefined
          throw error
        }),
    retry,
  )
}
