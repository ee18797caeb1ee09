import type {Server, ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {invalidContent, type LambdaApiError} from './lambda-errors.js'

/** The local service's HTTP plumbing: JSON answers, Lambda-shaped errors, JSON request bodies. */

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  })
  res.end(text)
}

export function sendError(res: ServerResponse, error: LambdaApiError): void {
  sendJson(res, error.status, {Type: 'User', message: error.message, ...error.extra}, {'x-amzn-ErrorType': error.type})
}

export function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw invalidContent('Could not parse request body into json.')
  }
}

/** Listens on any free port of `host`; resolves with the port. */
export function listen(server: Server, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port))
  })
}
