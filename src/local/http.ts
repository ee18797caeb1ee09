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

/**
 * Writes a streamed chunk; when the client is not keeping up, a promise that settles once it drains (or goes away),
 * so the producer (the runtime's stream) is held back instead of piling up in memory.
 */
export function writeStreamed(res: ServerResponse, bytes: Buffer): Promise<void> | undefined {
  if (res.write(bytes) || res.destroyed) return undefined
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
