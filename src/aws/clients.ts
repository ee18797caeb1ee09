import {createRequire} from 'node:module'

import type {ApiGatewayV2Client} from '@aws-sdk/client-apigatewayv2'
import type {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import type {ECRClient} from '@aws-sdk/client-ecr'
import type {IAMClient} from '@aws-sdk/client-iam'
import type {LambdaClient} from '@aws-sdk/client-lambda'
import type {S3Client} from '@aws-sdk/client-s3'
import type {SQSClient} from '@aws-sdk/client-sqs'
import type {STSClient} from '@aws-sdk/client-sts'

import {requireRegion, type Settings} from '../core/settings.js'

// The SDK warns on every run that its releases after January 2027 need Node 22; faas supports Node 20,
// so the notice is switched off (the SDK's own variable) wherever faas builds a client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

// Each SDK package is loaded when its first client is made (the packages are CommonJS, the same module
// an import gets), so a command that needs S3 loads and builds S3 only.
const require = createRequire(import.meta.url)

/**
 * SDK v3 clients built from faas settings, each made on first use. Endpoints are left to the SDK,
 * which honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (how tests point at the emulator).
 * Adapters take only the client they use (a narrow Pick of this).
 */
export interface AwsClients {
  readonly ecr: ECRClient
  /**
   * ECR for best-effort lookups: one attempt per call (a failure there is an answer, e.g. an emulator without the
   * call).
   */
  readonly ecrProbe: ECRClient
  readonly iam: IAMClient
  /** Control-plane calls; throttles retried by the SDK's standard strategy. */
  readonly lambda: LambdaClient
  /** Invoke only: one attempt per call (invoking is not idempotent). */
  readonly invoker: LambdaClient
  readonly s3: S3Client
  readonly sts: STSClient
  /** Tables a benchmark declares (deploy, destroy --tables). */
  readonly dynamodb: DynamoDBClient
  /** API Gateway HTTP APIs (a benchmark's routes). */
  readonly apigateway: ApiGatewayV2Client
  /** Queues faas makes for a benchmark's event sources. */
  readonly sqs: SQSClient
  readonly region: string
}

/** Attempts of control-plane calls, throttles included (the SDK's standard retry strategy backs off). */
export const MAX_ATTEMPTS = 6

export function clientConfig(settings: Settings) {
  return {region: requireRegion(settings), credentials: settings.credentials, maxAttempts: MAX_ATTEMPTS}
}

export interface ClientOptions {
  /** Calls the invoker must carry at once: its sockets are sized to it (the SDK's default is 50). */
  maxInFlight?: number
}

/** The SDK's Node handler, given as options (it builds the agents), with sockets for `maxInFlight` calls at once. */
export const invokeHandler = (maxInFlight = 50) => ({
  httpAgent: {keepAlive: true, maxSockets: maxInFlight},
  httpsAgent: {keepAlive: true, maxSockets: maxInFlight},
})

export function createAwsClients(settings: Settings, options: ClientOptions = {}): AwsClients {
  const config = clientConfig(settings)
  const made: Partial<Record<keyof AwsClients, unknown>> = {}
  const once = <T>(key: keyof AwsClients, make: () => T): T => (made[key] ??= make()) as T
  return {
    region: config.region,
    get ecr() {
      return once(
        'ecr',
        () => new (require('@aws-sdk/client-ecr') as typeof import('@aws-sdk/client-ecr')).ECRClient(config),
      )
    },
    get ecrProbe() {
      return once(
        'ecrProbe',
        () =>
          new (require('@aws-sdk/client-ecr') as typeof import('@aws-sdk/client-ecr')).ECRClient({
            ...config,
            maxAttempts: 1,
          }),
      )
    },
    get iam() {
      return once(
        'iam',
        () => new (require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam')).IAMClient(config),
      )
    },
    get lambda() {
      return once(
        'lambda',
        () => new (require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda')).LambdaClient(config),
      )
    },
    get invoker() {
      return once(
        'invoker',
        () =>
          new (require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda')).LambdaClient({
            ...config,
            maxAttempts: 1,
            requestHandler: invokeHandler(options.maxInFlight),
          }),
      )
    },
    get s3() {
      // Path-style keeps bucket names out of hostnames, which emulators on 127.0.0.1 need.
      const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL)
      return once(
        's3',
        () =>
          new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({
            ...config,
            forcePathStyle,
          }),
      )
    },
    get dynamodb() {
      return once(
        'dynamodb',
        () =>
          new (require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient(config),
      )
    },
    get sqs() {
      return once(
        'sqs',
        () => new (require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs')).SQSClient(config),
      )
    },
    get apigateway() {
      return once(
        'apigateway',
        () =>
          new (
            require('@aws-sdk/client-apigatewayv2') as typeof import('@aws-sdk/client-apigatewayv2')
          ).ApiGatewayV2Client(config),
      )
    },
    get sts() {
      return once(
        'sts',
        () => new (require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts')).STSClient(config),
      )
    },
  }
}
