import {Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {portFlag} from '../../cli/flags.js'
import {loadSettings} from '../../core/settings.js'
import {credentialsFile, requireSecrets} from '../../local/credentials.js'
import {health, identify, portOf, readState} from '../../local/service-process.js'

/** The services of the local data store, by their AWS config names. */
const DATA_SERVICES = ['s3', 'dynamodb', 'sqs']

export default class LocalCredentials extends FaasCommand {
  static override summary = 'Print how to point an AWS SDK at the local Lambda service with its key pair.'
  static override description =
    'The local service checks SigV4 signatures as Lambda does, with a key pair it made on its first start (kept ' +
    '0600 in $FAAS_HOME/local/credentials.json). This prints shell exports (--format env) or an AWS profile ' +
    '(--format profile) for boto3, the AWS CLI and the JS SDK. When the service gives functions the local data ' +
    'store, its endpoint for S3, DynamoDB and SQS is exported too, so code on the host reaches the same data as the ' +
    'functions. The secret goes to standard output only: --json names the file instead.'

  static override examples = [
    'eval "$(<%= config.bin %> local credentials)"',
    '<%= config.bin %> local credentials --format profile >> ~/.aws/config',
  ]

  static override flags = {
    format: Flags.string({
      description: 'env: shell exports; profile: a [profile faas-local] section for ~/.aws/config.',
      options: ['env', 'profile'],
      default: 'env',
    }),
    port: portFlag('Port of the service (default 9001, or FAAS_LOCAL_PORT).'),
  }

  async run() {
    const {flags} = await this.parse(LocalCredentials)
    const secrets = requireSecrets()
    const endpoint = readState()?.url ?? `http://127.0.0.1:${portOf({port: flags.port})}`
    const who = await identify(endpoint)
    const region = who.who === 'ours' ? who.region : (loadSettings().region ?? 'us-east-1')
    // The store functions use (the local S3 store's moto answers S3, DynamoDB and SQS alike).
    const store = who.who === 'ours' ? (await health(endpoint))?.s3Endpoint : undefined
    const dataEndpoints = store ? Object.fromEntries(DATA_SERVICES.map((s) => [s, store])) : {}
    const result = {
      endpoint,
      dataEndpoints,
      region,
      accessKeyId: secrets.accessKeyId,
      credentialsFile: credentialsFile(),
      running: who.who === 'ours',
    }
    if (this.jsonEnabled()) return result
    const lines =
      flags.format === 'profile'
        ? [
            '[profile faas-local]',
            `region = ${region}`,
            `aws_access_key_id = ${secrets.accessKeyId}`,
            `aws_secret_access_key = ${secrets.secretAccessKey}`,
            'services = faas-local',
            '',
            '[services faas-local]',
            'lambda =',
            `  endpoint_url = ${endpoint}`,
            ...Object.entries(dataEndpoints).flatMap(([service, url]) => [`${service} =`, `  endpoint_url = ${url}`]),
          ]
        : [
            `export AWS_ACCESS_KEY_ID=${secrets.accessKeyId}`,
            `export AWS_SECRET_ACCESS_KEY=${secrets.secretAccessKey}`,
            'unset AWS_SESSION_TOKEN',
            `export AWS_REGION=${region}`,
            `export AWS_DEFAULT_REGION=${region}`,
            `export AWS_ENDPOINT_URL_LAMBDA=${endpoint}`,
            ...Object.entries(dataEndpoints).map(
              ([service, url]) => `export AWS_ENDPOINT_URL_${service.toUpperCase()}=${url}`,
            ),
          ]
    process.stdout.write(`${lines.join('\n')}\n`)
    return result
  }
}
