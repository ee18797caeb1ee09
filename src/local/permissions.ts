import type {ControlContext, Result} from './control-api.js'
import {arnOf, nameOf} from './arns.js'
import {invalid, notFound, resourceConflict, resourceMissing, validation} from './lambda-errors.js'
import type {LocalFunction, PolicyStatement} from './types.js'
import {qualifiedArn} from './url-config.js'

/**
 * A function's resource-based policy (AddPermission, RemovePermission, GetPolicy), kept per
 * qualifier on the function, and the one question the service asks of it: may anyone call this
 * NONE URL? Since October 2025 Lambda requires two statements for that: lambda:InvokeFunctionUrl
 * (lambda:FunctionUrlAuthType NONE) and lambda:InvokeFunction (lambda:InvokedViaFunctionUrl true),
 * both for the public principal.
 */

export type PermissionBody = Partial<{
  StatementId: unknown
  Action: unknown
  Principal: unknown
  SourceArn: unknown
  SourceAccount: unknown
  EventSourceToken: unknown
  PrincipalOrgID: unknown
  FunctionUrlAuthType: unknown
  InvokedViaFunctionUrl: unknown
  RevisionId: unknown
}>

const STATEMENT_ID = /^[a-zA-Z0-9-_]{1,100}$/
const ACTION = /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/

function functionOf(ctx: ControlContext, ref: string): LocalFunction {
  const name = nameOf(ref)
  const fn = ctx.functions.get(name)
  if (!fn) throw notFound(arnOf(ctx, name))
  return fn
}

/** `$LATEST` for the unqualified function; an alias through the alias seam; no versions here yet. */
function policyQualifier(ctx: ControlContext, fn: LocalFunction, qualifier: string | null): string {
  if (qualifier === null || qualifier === '' || qualifier === '$LATEST') return '$LATEST'
  if (!/^[a-zA-Z0-9$_-]{1,128}$/.test(qualifier))
    throw validation(qualifier, 'qualifier', 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)')
  if (/^\d+$/.test(qualifier) || !ctx.aliases(fn, qualifier)) throw notFound(`${arnOf(ctx, fn.name)}:${qualifier}`)
  return qualifier
}

/** Principal as Lambda writes it in the statement: `*`, an account, a service, or an ARN. */
function principalOf(principal: string): PolicyStatement['Principal'] {
  if (principal === '*') return '*'
  if (/^\d{12}$/.test(principal)) return {AWS: `arn:aws:iam::${principal}:root`}
  if (/\.amazonaws\.com$/.test(principal)) return {Service: principal}
  return {AWS: principal}
}

const optionalString = (value: unknown, field: string): string | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || !value) throw validation(value, field, 'Member must be a non-empty string')
  return value
}

function statementOf(ctx: ControlContext, fn: LocalFunction, qualifier: string, body: PermissionBody) {
  const sid = body.StatementId
  if (typeof sid !== 'string' || !STATEMENT_ID.test(sid))
    throw validation(sid, 'statementId', 'Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)')
  const action = body.Action
  if (typeof action !== 'string' || !ACTION.test(action))
    throw validation(
      action,
      'action',
      'Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])',
    )
  const principal = body.Principal
  if (typeof principal !== 'string' || !/^\S+$/.test(principal))
    throw validation(principal, 'principal', 'Member must satisfy regular expression pattern: [^\\s]+')
  const condition: Record<string, Record<string, string>> = {}
  const add = (operator: string, key: string, value: string) => ((condition[operator] ??= {})[key] = value)
  const sourceArn = optionalString(body.SourceArn, 'sourceArn')
  if (sourceArn) add('ArnLike', 'AWS:SourceArn', sourceArn)
  const sourceAccount = optionalString(body.SourceAccount, 'sourceAccount')
  if (sourceAccount) add('StringEquals', 'AWS:SourceAccount', sourceAccount)
  const token = optionalString(body.EventSourceToken, 'eventSourceToken')
  if (token) add('StringEquals', 'lambda:EventSourceToken', token)
  const org = optionalString(body.PrincipalOrgID, 'principalOrgID')
  if (org) add('StringEquals', 'aws:PrincipalOrgID', org)
  if (body.FunctionUrlAuthType !== undefined && body.FunctionUrlAuthType !== null) {
    if (body.FunctionUrlAuthType !== 'NONE' && body.FunctionUrlAuthType !== 'AWS_IAM')
      throw validation(
        body.FunctionUrlAuthType,
        'functionUrlAuthType',
        'Member must satisfy enum value set: [AWS_IAM, NONE]',
      )
    if (action !== 'lambda:InvokeFunctionUrl')
      throw invalid('FunctionUrlAuthType is only supported for the lambda:InvokeFunctionUrl action.')
    add('StringEquals', 'lambda:FunctionUrlAuthType', body.FunctionUrlAuthType)
  }
  if (body.InvokedViaFunctionUrl !== undefined && body.InvokedViaFunctionUrl !== null) {
    if (typeof body.InvokedViaFunctionUrl !== 'boolean')
      throw validation(body.InvokedViaFunctionUrl, 'invokedViaFunctionUrl', 'Member must be a boolean')
    if (action !== 'lambda:InvokeFunction')
      throw invalid('InvokedViaFunctionUrl is only supported for the lambda:InvokeFunction action.')
    if (body.InvokedViaFunctionUrl) add('Bool', 'lambda:InvokedViaFunctionUrl', 'true')
  }
  const statement: PolicyStatement = {
    Sid: sid,
    Effect: 'Allow',
    Principal: principalOf(principal),
    Action: action,
    Resource: qualifiedArn(ctx, fn.name, qualifier),
    ...(Object.keys(condition).length > 0 ? {Condition: condition} : {}),
  }
  return statement
}

export async function addPermission(ctx: ControlContext, ref: string, query: URLSearchParams, body: PermissionBody) {
  const fn = functionOf(ctx, ref)
  const qualifier = policyQualifier(ctx, fn, query.get('Qualifier'))
  const statement = statementOf(ctx, fn, qualifier, body)
  const statements = fn.policies?.[qualifier] ?? []
  if (statements.some((s) => s.Sid === statement.Sid))
    throw resourceConflict(
      `The statement id (${statement.Sid}) provided already exists. Please provide a new statement id, or remove ` +
        `the existing statement.`,
    )
  fn.policies = {...fn.policies, [qualifier]: [...statements, statement]}
  await ctx.changed(fn.name, 'policy')
  return [201, {Statement: JSON.stringify(statement)}] as Result
}

export async function removePermission(
  ctx: ControlContext,
  ref: string,
  sid: string,
  query: URLSearchParams,
): Promise<Result> {
  const fn = functionOf(ctx, ref)
  const qualifier = policyQualifier(ctx, fn, query.get('Qualifier'))
  const id = decodeURIComponent(sid)
  const statements = fn.policies?.[qualifier] ?? []
  if (!statements.some((s) => s.Sid === id)) throw resourceMissing(`Statement ${id} is not found in resource policy.`)
  const left = statements.filter((s) => s.Sid !== id)
  const policies = {...fn.policies}
  if (left.length > 0) policies[qualifier] = left
  else delete policies[qualifier]
  fn.policies = policies
  await ctx.changed(fn.name, 'policy')
  return [204, undefined]
}

export function getPolicy(ctx: ControlContext, ref: string, query: URLSearchParams): Result {
  const fn = functionOf(ctx, ref)
  const qualifier = policyQualifier(ctx, fn, query.get('Qualifier'))
  const statements = fn.policies?.[qualifier]
  if (!statements?.length) throw resourceMissing()
  return [
    200,
    {
      Policy: JSON.stringify({Version: '2012-10-17', Id: 'default', Statement: statements}),
      RevisionId: `${fn.revision}`,
    },
  ]
}

const isPublic = (principal: PolicyStatement['Principal']) =>
  principal === '*' || (typeof principal === 'object' && principal.AWS === '*')

/** Whether a statement allows the anonymous caller of a NONE URL one action, its conditions as they are then. */
function allows(statement: PolicyStatement, action: string, facts: Record<string, string>): boolean {
  if (statement.Effect !== 'Allow' || !isPublic(statement.Principal)) return false
  if (![action, 'lambda:*', '*'].includes(statement.Action)) return false
  for (const [operator, pairs] of Object.entries(statement.Condition ?? {})) {
    for (const [key, value] of Object.entries(pairs)) {
      const fact = facts[key]
      if (fact === undefined || !['StringEquals', 'Bool'].includes(operator) || fact !== value) return false
    }
  }
  return true
}

/** May anyone invoke this qualifier through its NONE URL? Both statements, as Lambda requires since Oct 2025. */
export function publicUrlAllowed(fn: LocalFunction, qualifier: string): boolean {
  const statements = fn.policies?.[qualifier] ?? []
  const facts = {'lambda:FunctionUrlAuthType': 'NONE', 'lambda:InvokedViaFunctionUrl': 'true'}
  return (
    statements.some((s) => allows(s, 'lambda:InvokeFunctionUrl', facts)) &&
    statements.some((s) => allows(s, 'lambda:InvokeFunction', facts))
  )
}
