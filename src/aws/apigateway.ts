import {
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiCommand,
  DeleteIntegrationCommand,
  DeleteRouteCommand,
  DeleteStageCommand,
  GetApisCommand,
  GetIntegrationsCommand,
  GetRoutesCommand,
  GetStagesCommand,
  UpdateRouteCommand,
  UpdateStageCommand,
  type Api,
  type ApiGatewayV2Client,
} from '@aws-sdk/client-apigatewayv2'
import {
  AddPermissionCommand,
  GetPolicyCommand,
  RemovePermissionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda'

import type {PayloadFormat} from '../core/api-routes.js'
import {UserError} from '../core/errors.js'
import {aws} from './errors.js'
import {MANAGED_TAG} from './iam.js'

/**
 * A benchmark's routes as an API Gateway HTTP API: the API (named after the benchmark, tagged as faas's), one
 * AWS_PROXY integration per function and payload format, a route per route key, one auto-deployed stage, and the
 * lambda:InvokeFunction statement for apigateway.amazonaws.com on each function, scoped to the API's ARN. Each
 * part is read first and written only when it differs, so a second deploy writes nothing.
 */

type AwsError = {name?: string; message?: string}

export interface HttpApiRoute {
  routeKey: string
  /** The deployed function's (unqualified) ARN. */
  functionArn: string
  payloadFormat: PayloadFormat
}

export interface HttpApiState {
  apiId: string
  /** The API's base URL with its stage (`$default` serves from the root). */
  url: string
  /** What was written, e.g. ["api", "routes", "permission"]; empty when it was all in place. */
  writes: string[]
}

/** The statement id faas gives the permission of one API on a function. */
export const apiStatementId = (apiId: string) => `faas-api-${apiId}`

/** The faas-made HTTP API of this name; another API of the name (not tagged as faas's) is refused. */
export async function findHttpApi(client: ApiGatewayV2Client, name: string): Promise<Api | undefined> {
  const found: Api[] = []
  let token: string | undefined
  do {
    const page = await aws('list the HTTP APIs (apigateway:GET /apis)', () =>
      client.send(new GetApisCommand({NextToken: token, MaxResults: '100'})),
    )
    found.push(...(page.Items ?? []).filter((a) => a.Name === name && a.ProtocolType === 'HTTP'))
    token = page.NextToken
  } while (token)
  const ours = found.filter((a) => a.Tags?.[MANAGED_TAG.Key] === MANAGED_TAG.Value)
  if (ours.length === 0 && found.length > 0)
    throw new UserError(`An HTTP API named ${name} (${found[0]!.ApiId}) exists that faas did not create.`, {
      code: 'API_NOT_OURS',
      fix: `Delete or rename that API (aws apigatewayv2 delete-api --api-id ${found[0]!.ApiId}), then deploy again.`,
    })
  return ours[0]
}

const functionNameOf = (arn: string) => arn.split(':')[6] ?? arn

/** arn:aws:execute-api:<region>:<account>:<apiId>/* — every stage and route of the API, from the function's ARN. */
export function executeApiArn(functionArn: string, apiId: string): string {
  const [, partition, , region, account] = functionArn.split(':')
  return `arn:${partition}:execute-api:${region}:${account}:${apiId}/*`
}

/** The function's resource-policy statement of this id, if any (its SourceArn condition). */
async function statementSourceArn(
  lambda: LambdaClient,
  fn: string,
  sid: string,
): Promise<{present: boolean; sourceArn?: string}> {
  const out = await aws(`read the resource policy of ${fn} (lambda:GetPolicy)`, () =>
    lambda.send(new GetPolicyCommand({FunctionName: fn})).catch((error: AwsError) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
  if (!out?.Policy) return {present: false}
  const policy = JSON.parse(out.Policy) as {
    Statement?: Array<{Sid?: string; Condition?: {ArnLike?: Record<string, string>}}>
  }
  const statement = (policy.Statement ?? []).find((s) => s.Sid === sid)
  if (!statement) return {present: false}
  return {present: true, sourceArn: statement.Condition?.ArnLike?.['AWS:SourceArn']}
}

async function removeStatement(lambda: LambdaClient, fn: string, sid: string): Promise<void> {
  await aws(`remove statement ${sid} from ${fn} (lambda:RemovePermission)`, () =>
    lambda.send(new RemovePermissionCommand({FunctionName: fn, StatementId: sid})).catch((error: AwsError) => {
      if (error?.name === 'ResourceNotFoundException') return undefined
      throw error
    }),
  )
}

/** Lets API Gateway invoke `functionArn` through this API only; true when a statement was written. */
async function ensurePermission(lambda: LambdaClient, functionArn: string, apiId: string): Promise<boolean> {
  const fn = functionNameOf(functionArn)
  const sid = apiStatementId(apiId)
  const sourceArn = executeApiArn(functionArn, apiId)
  const current = await statementSourceArn(lambda, fn, sid)
  if (current.present && current.sourceArn === sourceArn) return false
  if (current.present) await removeStatement(lambda, fn, sid)
  await aws(`allow API Gateway to invoke ${fn} (lambda:AddPermission)`, () =>
    lambda
      .send(
        new AddPermissionCommand({
          FunctionName: fn,
          StatementId: sid,
          Action: 'lambda:InvokeFunction',
          Principal: 'apigateway.amazonaws.com',
          SourceArn: sourceArn,
        }),
      )
      .catch((error: AwsError) => {
        // Another deploy added it first: what we wanted is there.
        if (error?.name === 'ResourceConflictException' && /already exists/i.test(String(error.message))) return
        throw error
      }),
  )
  return true
}

const integrationKey = (uri: string, format: string) => `${uri} ${format}`

interface ApiContext {
  client: ApiGatewayV2Client
  apiId: string
  where: string
  writes: Set<string>
}

/**
 * One AWS_PROXY integration per function and payload format, created where missing; answers those there were
 * (key → id, so the caller can delete what no route uses any more) and those wanted.
 */
async function ensureIntegrations(
  {client, apiId, where, writes}: ApiContext,
  routes: HttpApiRoute[],
): Promise<{existing: Map<string, string>; wanted: Map<string, string>}> {
  const listed = await aws(`read the integrations of ${where} (apigateway:GET)`, () =>
    client.send(new GetIntegrationsCommand({ApiId: apiId, MaxResults: '500'})),
  )
  const existing = new Map<string, string>()
  for (const i of listed.Items ?? [])
    if (i.IntegrationType === 'AWS_PROXY' && i.IntegrationUri && i.PayloadFormatVersion)
      existing.set(integrationKey(i.IntegrationUri, i.PayloadFormatVersion), i.IntegrationId!)
  const wanted = new Map<string, string>()
  for (const route of routes) {
    const key = integrationKey(route.functionArn, route.payloadFormat)
    if (wanted.has(key)) continue
    let id = existing.get(key)
    if (!id) {
      const made = await aws(`add the integration of ${functionNameOf(route.functionArn)} to ${where}`, () =>
        client.send(
          new CreateIntegrationCommand({
            ApiId: apiId,
            IntegrationType: 'AWS_PROXY',
            IntegrationUri: route.functionArn,
            IntegrationMethod: 'POST',
            PayloadFormatVersion: route.payloadFormat,
          }),
        ),
      )
      id = made.IntegrationId!
      writes.add('integrations')
    }
    wanted.set(key, id)
  }
  return {existing, wanted}
}

/** The one stage, auto-deployed (every change goes live without a deployment of ours); other stages go. */
async function ensureStage({client, apiId, where, writes}: ApiContext, name: string): Promise<void> {
  const stages = await aws(`read the stages of ${where} (apigateway:GET)`, () =>
    client.send(new GetStagesCommand({ApiId: apiId, MaxResults: '500'})),
  )
  const stage = (stages.Items ?? []).find((s) => s.StageName === name)
  if (!stage) {
    await aws(`create stage ${name} of ${where}`, () =>
      client.send(new CreateStageCommand({ApiId: apiId, StageName: name, AutoDeploy: true})),
    )
    writes.add('stage')
  } else if (!stage.AutoDeploy) {
    await aws(`turn on auto-deploy of stage ${name} of ${where}`, () =>
      client.send(new UpdateStageCommand({ApiId: apiId, StageName: name, AutoDeploy: true})),
    )
    writes.add('stage')
  }
  for (const other of stages.Items ?? []) {
    if (other.StageName === name) continue
    await aws(`delete stage ${other.StageName} of ${where}`, () =>
      client.send(new DeleteStageCommand({ApiId: apiId, StageName: other.StageName!})),
    )
    writes.add('stage')
  }
}

/** Creates or converges the HTTP API `name` to these routes and stage; idempotent. */
export async function ensureHttpApi(
  clients: {apigateway: ApiGatewayV2Client; lambda: LambdaClient},
  spec: {name: string; stage: string; routes: HttpApiRoute[]},
): Promise<HttpApiState> {
  const {apigateway: client, lambda} = clients
  const writes = new Set<string>()
  let api: Pick<Api, 'ApiId' | 'ApiEndpoint'> | undefined = await findHttpApi(client, spec.name)
  if (!api) {
    api = await aws(`create the HTTP API ${spec.name} (apigateway:POST /apis)`, () =>
      client.send(
        new CreateApiCommand({
          Name: spec.name,
          ProtocolType: 'HTTP',
          Description: `Routes of the faas benchmark ${spec.name}`,
          Tags: {[MANAGED_TAG.Key]: MANAGED_TAG.Value},
        }),
      ),
    )
    writes.add('api')
  }
  const apiId = api.ApiId!
  const where = `the HTTP API ${spec.name} (${apiId})`

  const {existing: integrations, wanted} = await ensureIntegrations({client, apiId, where, writes}, spec.routes)

  // Routes: each key to its integration; routes the manifest no longer has are deleted.
  const routes = await aws(`read the routes of ${where} (apigateway:GET)`, () =>
    client.send(new GetRoutesCommand({ApiId: apiId, MaxResults: '500'})),
  )
  const byKey = new Map((routes.Items ?? []).map((r) => [r.RouteKey!, r]))
  for (const route of spec.routes) {
    const target = `integrations/${wanted.get(integrationKey(route.functionArn, route.payloadFormat))}`
    const current = byKey.get(route.routeKey)
    byKey.delete(route.routeKey)
    if (current?.Target === target) continue
    writes.add('routes')
    if (current)
      await aws(`point route ${route.routeKey} of ${where} at its function`, () =>
        client.send(new UpdateRouteCommand({ApiId: apiId, RouteId: current.RouteId!, Target: target})),
      )
    else
      await aws(`add route ${route.routeKey} to ${where}`, () =>
        client.send(new CreateRouteCommand({ApiId: apiId, RouteKey: route.routeKey, Target: target})),
      )
  }
  for (const stale of byKey.values()) {
    writes.add('routes')
    await aws(`delete route ${stale.RouteKey} of ${where}`, () =>
      client.send(new DeleteRouteCommand({ApiId: apiId, RouteId: stale.RouteId!})),
    )
  }
  const used = new Set(wanted.values())
  for (const [key, id] of integrations) {
    if (used.has(id)) continue
    writes.add('integrations')
    await aws(`delete an unused integration of ${where}`, () =>
      client.send(new DeleteIntegrationCommand({ApiId: apiId, IntegrationId: id})),
    )
    // A function no route reaches any more loses this API's permission.
    const uri = key.slice(0, key.lastIndexOf(' '))
    if (![...wanted.keys()].some((k) => k.startsWith(`${uri} `))) {
      const fn = functionNameOf(uri)
      if ((await statementSourceArn(lambda, fn, apiStatementId(apiId))).present) {
        await removeStatement(lambda, fn, apiStatementId(apiId))
        writes.add('permission')
      }
    }
  }

  await ensureStage({client, apiId, where, writes}, spec.stage)

  for (const arn of new Set(spec.routes.map((r) => r.functionArn)))
    if (await ensurePermission(lambda, arn, apiId)) writes.add('permission')

  const endpoint = api.ApiEndpoint!.replace(/\/$/, '')
  const url = spec.stage === '$default' ? `${endpoint}/` : `${endpoint}/${spec.stage}`
  return {apiId, url, writes: [...writes]}
}

/** Deletes the faas-made HTTP API `name` and its statements on the functions it reached; 'absent' when none. */
export async function deleteHttpApi(
  clients: {apigateway: ApiGatewayV2Client; lambda: LambdaClient},
  name: string,
): Promise<'deleted' | 'absent'> {
  const {apigateway: client, lambda} = clients
  const api = await findHttpApi(client, name)
  if (!api) return 'absent'
  const apiId = api.ApiId!
  const integrations = await aws(`read the integrations of the HTTP API ${name} (apigateway:GET)`, () =>
    client.send(new GetIntegrationsCommand({ApiId: apiId, MaxResults: '500'})),
  )
  const arns = new Set((integrations.Items ?? []).flatMap((i) => (i.IntegrationUri ? [i.IntegrationUri] : [])))
  for (const arn of arns) {
    const fn = functionNameOf(arn)
    if ((await statementSourceArn(lambda, fn, apiStatementId(apiId))).present)
      await removeStatement(lambda, fn, apiStatementId(apiId))
  }
  return aws(`delete the HTTP API ${name} (apigateway:DELETE)`, () =>
    client.send(new DeleteApiCommand({ApiId: apiId})).then(
      () => 'deleted' as const,
      (error: AwsError) => {
        if (error?.name === 'NotFoundException') return 'absent' as const
        throw error
      },
    ),
  )
}
