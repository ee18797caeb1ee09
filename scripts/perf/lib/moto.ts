// A private moto server for perf scripts (so figures do not depend on what others keep in the
// shared one), with map-reduce's three images "pushed" to its ECR as manifests only.
import {CreateRepositoryCommand, ECRClient, PutImageCommand} from '@aws-sdk/client-ecr'
import {execa} from 'execa'
import {createHash} from 'node:crypto'

import {freePort} from '../../../test/helpers/net.js'

// The SDK's Node-version notice would otherwise precede the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const MOTO = process.env.FAAS_MOTO_SERVER ?? '/var/lib/faas-stack/venv/bin/moto_server'

export interface Moto {
  url: string
  /** What a process needs to talk to it with throwaway credentials. */
  env: Record<string, string>
  stop(): Promise<void>
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort()
  const moto = execa(MOTO, ['-H', '127.0.0.1', '-p', String(port)], {
    env: {MOTO_IAM_LOAD_MANAGED_POLICIES: 'true'},
    reject: false,
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (
    !(await fetch(`${url}/moto-api/data.json`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (moto.exitCode !== null || Date.now() > deadline) throw new Error(`moto did not start on ${url}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const env = {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ACCOUNT_ID: '123456789012',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
  return {
    url,
    env,
    stop: async () => {
      moto.kill()
      await moto
    },
  }
}

/** ECR repositories map-reduce-{driver,mapper,reducer} each with a tag `tag` (a manifest; no layers are uploaded). */
export function seedMapReduceImages(moto: Moto, tag: string): Promise<void> {
  return seedImages(
    moto,
    ['driver', 'mapper', 'reducer'].map((fn) => `map-reduce-${fn}`),
    tag,
  )
}

/** An image manifest under repository:tag in moto's ECR for each repository, as a push would leave it. */
export async function seedImages(moto: Moto, repositories: string[], tag: string): Promise<void> {
  const ecr = new ECRClient({
    region: 'us-east-1',
    endpoint: moto.url,
    credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'},
  })
  const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`
  for (const fn of repositories) {
    const repositoryName = fn
    await ecr.send(new CreateRepositoryCommand({repositoryName}))
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest: sha(fn)},
      layers: [{mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1, digest: sha(`${fn}-layer`)}],
    }
    await ecr.send(new PutImageCommand({repositoryName, imageTag: tag, imageManifest: JSON.stringify(manifest)}))
  }
  ecr.destroy()
}
