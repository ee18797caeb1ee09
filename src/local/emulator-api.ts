import {Hash} from '@smithy/hash-node'
import {SignatureV4} from '@smithy/signature-v4'

/**
 * A call in the AWS JSON protocol (SQS, EventBridge), signed with SigV4: what the local service needs of the stack's
 * emulator (destinations of async invocations) without an SDK client per service. The emulator reads the account and
 * region from the signature, so it is signed even where the emulator does not check it.
 */

const sha256 = Hash.bind(null, 'sha256') as unknown as ConstructorParameters<typeof SignatureV4>[0]['sha256']

export interface JsonApiTarget {
  endpoint: string
  region: string
  credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
}

/** An error answer of the service: its type (`QueueDoesNotExist`, `ResourceNotFoundException`) and message. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

const PROTOCOL = {
  sqs: {prefix: 'AmazonSQS', contentType: 'application/x-amz-json-1.0'},
  events: {prefix: 'AWSEvents', contentType: 'application/x-amz-json-1.1'},
} as const

export async function awsJson<T = Record<string, unknown>>(
  target: JsonApiTarget,
  service: keyof typeof PROTOCOL,
  action: string,
  input: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<T> {
  const url = new URL(target.endpoint)
  const body = JSON.stringify(input)
  const {prefix, contentType} = PROTOCOL[service]
  const signer = new SignatureV4({credentials: target.credentials, region: target.region, service, sha256})
  const signed = (await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: {},
    headers: {host: url.host, 'content-type': contentType, 'x-amz-target': `${prefix}.${action}`},
    body,
  } as never)) as unknown as {headers: Record<string, string>}
  const response = await fetch(url, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: signal ?? AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  if (!response.ok) {
    const type = String(parsed.__type ?? response.headers.get('x-amzn-query-error') ?? response.status)
    throw new AwsJsonError(
      type.split('#').pop()!.split(';')[0]!,
      String(parsed.message ?? parsed.Message ?? text),
      response.status,
    )
  }
  return parsed as T
}

/** The parts of an ARN (`arn:aws:sqs:us-east-1:000000000000:jobs`), or undefined when it is none. */
export function parseArn(
  arn: string,
): {service: string; region: string; account: string; resource: string} | undefined {
  const m = /^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/.exec(arn)
  return m ? {service: m[1]!, region: m[2]!, account: m[3]!, resource: m[4]!} : undefined
}
