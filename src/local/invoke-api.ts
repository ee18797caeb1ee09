import {randomUUID} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'

import {arnOf, nameOf} from './control-api.js'
import {sendJson} from './http.js'
import {invalid, invalidContent, notFound, serviceError, throttled, tooLarge} from './lambda-errors.js'
import {NotRunError, ThrottledError} from './pool.js'
import type {LocalFunction, ServiceOptions} from './types.js'
import type {Runner} from './version-pools.js'
import {requestedQualifier, resolveQualifier, versionOf} from './versions.js'

export const MAX_SYNC_REQUEST = 6 * 1024 * 1024
export const MAX_ASYNC_REQUEST = 256 * 1024
const LOG_TAIL_BYTES = 4096
const TYPES = ['RequestResponse', 'Event', 'DryRun']

/** The last 4 KB of an invocation's framed log, as Lambda's X-Amz-Log-Result carries it. */
export function logTail(lines: string[]): string {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64')
}

/** What Invoke needs of the service. */
export interface InvokeContext {
  functions: Map<string, LocalFunction>
  options: Pick<ServiceOptions, 'region' | 'accountId'>
  /** What runs a call to `version` named by `qualifier`: provisioned environments first, then the version's pool. */
  runner(name: string, qualifier: string | undefined, version: string): Runner
  log(name: string, line: string): void
  /** Event invocations still running: the service waits for none of them, but keeps them referenced. */
  background: Set<Promise<unknown>>
}

/** The payload as Invoke accepts it: within the invocation type's limit, JSON (empty is `{}`). */
function checkedPayload(received: Buffer, type: string): Buffer {
  const limit = type === 'Event' ? MAX_ASYNC_REQUEST : MAX_SYNC_REQUEST
  if (received.length > limit)
    throw tooLarge(`Request must be smaller than ${limit} bytes for the InvokeFunction operation`)
  const payload = received.length === 0 ? Buffer.from('{}') : received
  try {
    JSON.parse(payload.toString('utf8'))
  } catch (error) {
    throw invalidContent(`Could not parse request body into json: ${(error as Error).message}`)
  }
  return payload
}

/**
 * The version a call runs: the qualifier in the name/ARN or ?Qualifier names $LATEST, a version, or an alias
 * (whose weights pick the version for this call).
 */
function versionToRun(
  ctx: InvokeContext,
  ref: string,
  req: IncomingMessage,
): {version: string; qualifier: string | undefined} {
  const name = nameOf(ref)
  const fn = ctx.functions.get(name)
  if (!fn) throw notFound(arnOf(ctx.options, name))
  const query = new URL(req.url ?? '/', 'http://local').searchParams
  const qualifier = requestedQualifier(ref, query.get('Qualifier'))
  return {version: versionOf(resolveQualifier(fn, qualifier).fn), qualifier}
}

/**
 * POST /2015-03-31/functions/{name}/invocations: RequestResponse, Event or DryRun, as Lambda answers them,
 * naming the version that ran in X-Amz-Executed-Version.
 */
export async function invoke(
  ctx: InvokeContext,
  ref: string,
  req: IncomingMessage,
  res: ServerResponse,
  received: Buffer,
): Promise<void> {
  const name = nameOf(ref)
  const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse')
  if (!TYPES.includes(type)) {
    throw invalid(
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must ` +
        `satisfy enum value set: [Event, RequestResponse, DryRun]`,
    )
  }
  const {version, qualifier} = versionToRun(ctx, ref, req)
  const payload = checkedPayload(received, type)
  const headers: Record<string, string> = {'X-Amz-Executed-Version': version}
  if (type === 'DryRun') return sendJson(res, 204, undefined, headers)
  const clientContext = req.headers['x-amz-client-context']
    ? Buffer.from(String(req.headers['x-amz-client-context']), 'base64').toString('utf8')
    : undefined
  const pool = ctx.runner(name, qualifier, version)
  if (type === 'Event') {
    const requestId = randomUUID()
    // Accepted at once, as on Lambda; it waits for concurrency up to the maximum event age, then is discarded.
    const job = pool.invoke({payload, clientContext, waitForLogs: false, sync: false, requestId}).catch((error) => {
      ctx.log(
        name,
        `EVENT RequestId: ${requestId} ` +
          `discarded: ${error instanceof NotRunError ? error.message : String((error as Error)?.message ?? error)}`,
      )
    })
    ctx.background.add(job)
    void job.finally(() => ctx.background.delete(job))
    return sendJson(res, 202, undefined, {...headers, 'x-amzn-RequestId': requestId})
  }
  const tail = String(req.headers['x-amz-log-type'] ?? '').toLowerCase() === 'tail'
  let result
  try {
    result = await pool.invoke({payload, clientContext, waitForLogs: tail, sync: true})
  } catch (error) {
    if (error instanceof ThrottledError) throw throttled(error.reason)
    if (error instanceof NotRunError) throw serviceError(error.message)
    throw error
  }
  headers['x-amzn-RequestId'] = result.requestId
  if (result.functionError) headers['X-Amz-Function-Error'] = result.functionError
  // Not Lambda's: says the figures came from an emulated environment (the REPORT line says so too).
  if (result.emulated) headers['X-Faas-Emulated'] = 'true'
  if (tail) headers['X-Amz-Log-Result'] = logTail(result.logLines)
  res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': String(result.payload.length), ...headers})
  res.end(result.payload)
}
