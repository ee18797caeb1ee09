import {
  BatchGetImageCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  GetDownloadUrlForLayerCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr'

import {UserError} from '../core/errors.js'
import {aws} from './errors.js'

export interface EcrImage {
  /** sha256:… manifest digest. */
  digest: string
  /**
   * Architectures the image holds: those a multi-platform index names, or a single image's config architecture; empty
   * when unknown.
   */
  architectures: string[]
}

const INDEX_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
])

/** Splits `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` (or `@sha256:…`). */
export function parseEcrUri(
  uri: string,
): {registryId: string; repository: string; tag?: string; digest?: string} | undefined {
  const match =
    /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([\w][\w.-]*))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(
      uri,
    )
  if (!match) return undefined
  return {registryId: match[1]!, repository: match[2]!, tag: match[3], digest: match[4]}
}

/**
 * The image `repository:tag` in ECR, with its digest, or a UserError asking whether it was pushed.
 * Called before anything is created, so a typo in the tag costs nothing. `probe` (one attempt per
 * call) reads the best-effort architecture, whose failure is an answer, not something to retry.
 */
export async function findEcrImage(
  ecr: ECRClient,
  registryId: string,
  repository: string,
  tag: string,
  probe: ECRClient = ecr,
): Promise<EcrImage> {
  const missing = (what: string) =>
    new UserError(`${what} in ECR (${registryId}, ${repository}:${tag}).`, {
      code: 'IMAGE_NOT_FOUND',
      fix:
        `Did you push? Run faas push (or docker push ${registryId}.dkr.ecr.<region>.amazonaws.com/${repository}:` +
        `${tag}), or give the tag you pushed with --repo_tag.`,
    })
  const out = await aws(`look up image ${repository}:${tag} (ecr:DescribeImages)`, () =>
    ecr
      .send(new DescribeImagesCommand({registryId, repositoryName: repository, imageIds: [{imageTag: tag}]}))
      .catch((error: {name?: string}) => {
        if (error?.name === 'RepositoryNotFoundException') throw missing(`There is no repository ${repository}`)
        if (error?.name === 'ImageNotFoundException') throw missing(`There is no image tagged ${tag}`)
        throw error
      }),
  )
  const detail = out.imageDetails?.[0]
  if (!detail?.imageDigest) throw missing(`There is no image tagged ${tag}`)
  const got = await aws(`read the manifest of ${repository}:${tag} (ecr:BatchGetImage)`, () =>
    ecr.send(
      new BatchGetImageCommand({registryId, repositoryName: repository, imageIds: [{imageDigest: detail.imageDigest}]}),
    ),
  )
  const manifest = JSON.parse(got.images?.[0]?.imageManifest ?? '{}') as {
    manifests?: Array<{platform?: {architecture?: string}}>
    config?: {digest?: string}
  }
  const architectures =
    detail.imageManifestMediaType && INDEX_TYPES.has(detail.imageManifestMediaType)
      ? (manifest.manifests ?? []).flatMap((m) =>
          m.platform?.architecture && m.platform.architecture !== 'unknown' ? [m.platform.architecture] : [],
        )
      : await configArchitecture(probe, registryId, repository, manifest.config?.digest)
  return {digest: detail.imageDigest, architectures}
}

/**
 * A single image's architecture, from its config blob (ECR hands it out like a layer). Best effort:
 * without ecr:GetDownloadUrlForLayer, or from an emulator without it, the answer is "unknown".
 */
async function configArchitecture(
  ecr: ECRClient,
  registryId: string,
  repository: string,
  configDigest: string | undefined,
): Promise<string[]> {
  if (!configDigest) return []
  try {
    const {downloadUrl} = await ecr.send(
      new GetDownloadUrlForLayerCommand({registryId, repositoryName: repository, layerDigest: configDigest}),
    )
    const config = (await (await fetch(downloadUrl!, {signal: AbortSignal.timeout(15_000)})).json()) as {
      architecture?: string
    }
    return config.architecture ? [config.architecture] : []
  } catch {
    return []
  }
}

/** Deletes a repository and its images; 'absent' when there is none. */
export async function deleteRepository(ecr: ECRClient, repository: string): Promise<'deleted' | 'absent'> {
  return aws(`delete ECR repository ${repository} (ecr:DeleteRepository)`, () =>
    ecr.send(new DeleteRepositoryCommand({repositoryName: repository, force: true})).then(
      () => 'deleted' as const,
      (error: {name?: string}) => {
        if (error?.name === 'RepositoryNotFoundException') return 'absent' as const
        throw error
      },
    ),
  )
}
