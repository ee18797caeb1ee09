import {LambdaClient, type LambdaClientConfig} from '@aws-sdk/client-lambda'

import type {LocalService} from '../../src/local/service.js'
import {signRequest} from '../../src/local/sigv4.js'

/** A raw HTTP request to a local service, SigV4-signed with its own pair as any SDK would sign it. */
export async function signedFetch(
  service: LocalService,
  path: string,
  init: {method?: string; body?: string; headers?: Record<string, string>} = {},
): Promise<Response> {
  const url = new URL(path, service.url)
  const method = init.method ?? 'GET'
  const body = Buffer.from(init.body ?? '')
  const headers = await signRequest(
    url,
    {method, body, headers: init.headers},
    service.credentials,
    service.options.region,
  )
  return fetch(url, {method, headers, body: init.body})
}

/** The Lambda SDK client a user would point at this service: its URL, its pair, one attempt per call. */
export const lambdaClient = (service: LocalService, extra: Partial<LambdaClientConfig> = {}): LambdaClient =>
  new LambdaClient({
    endpoint: service.url,
    region: 'us-east-1',
    credentials: service.credentials,
    maxAttempts: 1,
    ...extra,
  })
