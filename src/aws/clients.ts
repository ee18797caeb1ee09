import {ECRClient} from '@aws-sdk/client-ecr'
import {IAMClient} from '@aws-sdk/client-iam'
import {LambdaClient} from '@aws-sdk/client-lambda'
import {S3Client} from '@aws-sdk/client-s3'
import {STSClient} from '@aws-sdk/client-sts'

import {requireRegion, type Settings} from '../core/settings.js'

/**
 * SDK v3 clients built from faas settings. Endpoints are left to the SDK, which honours
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (how tests point at the emulator).
 */
export interface AwsClients {
  ecr: ECRClient
  iam: IAMClient
  lambda: LambdaClient
  s3: S3Client
  sts: STSClient
  region: string
}

export function clientConfig(settings: Settings) {
  return {region: requireRegion(settings), credentials: settings.credentials, maxAttempts: 6}
}

export function createAwsClients(settings: Settings): AwsClients {
  const config = clientConfig(settings)
  return {
    ecr: new ECRClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    // Path-style keeps bucket names out of hostnames, which emulators on 127.0.0.1 need.
    s3: new S3Client({...config, forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL)}),
    sts: new STSClient(config),
    region: config.region,
  }
}
