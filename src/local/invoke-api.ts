import {randomUUID} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'

import {arnOf, nameOf} from './arns.js'
import {invokeComplete, payloadChunk} from './event-stream.js'
import {sendJson, writeStreamed} from './http.js'
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
  /** Queues an Event invocation of `version` (async-invoke.ts): retries, event age and destinations as Lambda's. */
  enqueue(name: string, payload: Buffer, requestId: string, clientContext?: string, version?: string): void
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
    // Accepted at once, as on Lambda, once it is queued (on disk where the service keeps its functions).
    ctx.enqueue(name, payload, requestId, clientContext, version)
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

/**
 * POST /2021-11-15/functions/{name}/response-streaming-invocations (InvokeWithResponseStream): Lambda's event
 * stream, a PayloadChunk for each chunk as the function writes it (one with the whole answer for a function that
 * does not stream), then InvokeComplete with ErrorCode/ErrorDetails and, with LogType Tail, LogResult.
 */
export async function invokeStreaming(
  ctx: InvokeContext,
  ref: string,
  req: IncomingMessage,
  res: ServerResponse,
  received: Buffer,
): Promise<void> {
  const name = nameOf(ref)
  const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse')
  if (type !== 'RequestResponse' && type !== 'DryRun')
    throw invalid(
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must ` +
        `satisfy enum value set: [RequestResponse, DryRun]`,
    )
  const {version, qualifier} = versionToRun(ctx, ref, req)
  const payload = checkedPayload(received, type)
  const headers: Record<string, string> = {'X-Amz-Executed-Version': version}
  if (type === 'DryRun') return sendJson(res, 204, undefined, headers)
  const tail = String(req.headers['x-amz-log-type'] ?? '').toLowerCase() === 'tail'
  const requestId = randomUUID()
  let streamed = false
  const open = () => {
    if (res.headersSent) return
    res.writeHead(200, {
      'Content-Type': 'application/vnd.amazon.eventstream',
      'x-amzn-RequestId': requestId,
      ...headers,
    })
    res.flushHeaders()
  }
  let result
  try {
    result = await ctx.runner(name, qualifier, version).invoke({
      payload,
      waitForLogs: tail,
      sync: true,
      requestId,
      onChunk: (chunk) => {
        open()
        streamed = true
        return writeStreamed(res, payloadChunk(chunk))
      },
    })
  } catch (error) {
    if (res.headersSent) {
      res.end(invokeComplete({ErrorCode: 'ServiceException', ErrorDetails: (error as Error).message}))
      return
    }
    if (error instanceof ThrottledError) throw throttled(error.reason)
    if (error instanceof NotRunError) throw serviceError(error.message)
    throw error
  }
  open()
  if (!result.functionError && !streamed && result.payload.length > 0) res.write(payloadChunk(result.payload))
  const complete: {ErrorCode?: string; ErrorDetails?: string; LogResult?: string} = {}
  if (result.functionError) {
    let details: {errorType?: string; errorMessage?: string} = {}
    try {
      details = JSON.parse(result.payload.toString('utf8'))
    } catch {}
    complete.ErrorCode = details.errorType ?? result.functionError
    complete.ErrorDetails = details.errorMessage ?? result.payload.toString('utf8')
  }
  if (tail) complete.LogResult = logTail(result.logLines)
  res.end(invokeComplete(complete))
}
