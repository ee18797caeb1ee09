import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr'

import {checkRepositoryName} from '../core/names.js'
import {aws} from './errors.js'

export interface Repository {
  name: string
  uri: string
  created: boolean
}

/** Creates the repository unless it exists (DescribeRepositories first, so a second run writes nothing). */
export async function ensureRepository(ecr: ECRClient, name: string): Promise<Repository> {
  checkRepositoryName(name)
  const existing = await aws(`describe ECR repository ${name}`, () =>
    ecr.send(new DescribeRepositoriesCommand({repositoryNames: [name]})).catch((error: {name?: string}) => {
      if (error?.name === 'RepositoryNotFoundException') return undefined
      throw error
    }),
  )
  const found = existing?.repositories?.[0]
  if (found) return {name, uri: found.repositoryUri!, created: false}
  const made = await aws(`create ECR repository ${name}`, () =>
    ecr
      .send(new CreateRepositoryCommand({repositoryName: name, imageScanningConfiguration: {scanOnPush: false}}))
      .catch((error: {name?: string}) => {
        // Another run created it between our check and our create: converge.
        if (error?.name === 'RepositoryAlreadyExistsException') return undefined
        throw error
      }),
  )
  if (!made) return ensureRepository(ecr, name)
  return {name, uri: made.repository!.repositoryUri!, created: true}
}

export interface EcrToken {
  registry: string
  username: string
  password: string
  expiresAt: Date
}

/** ECR GetAuthorizationToken, decoded into the username/password the engine needs. */
export async function ecrToken(ecr: ECRClient): Promise<EcrToken> {
  const result = await aws('get an ECR login token (ecr:GetAuthorizationToken)', () =>
    ecr.send(new GetAuthorizationTokenCommand({})),
  )
  const data = result.authorizationData?.[0]
  const [username, password] = Buffer.from(data!.authorizationToken!, 'base64').toString('utf8').split(':')
  return {
    registry: new URL(data!.proxyEndpoint!).host,
    username: username!,
    password: password!,
    expiresAt: data!.expiresAt ?? new Date(Date.now() + 12 * 3600_000),
  }
}
