import {createAwsClients} from '../aws/clients.js'
import {ensureRepository} from '../aws/ecr.js'
import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {type BenchmarkManifest, deployedName, type FunctionManifest} from '../core/manifest.js'
import {checkTag, imageRef, isEcrRegistry} from '../core/names.js'
import type {Settings} from '../core/settings.js'
import type {DockerEngine} from '../docker/engine.js'
import {localImage} from './build.js'
import {remoteDigest} from './registry-api.js'
import {loginFor, toEngineAuth} from './registry.js'

export interface PushedImage {
  function: string
  uri: string
  digest: string
  architecture: string
  /** True when the registry already held this exact image and nothing was sent. */
  skipped: boolean
  bytesPushed: number
  seconds: number
}

/**
 * Pushes built benchmark images: creates missing ECR repositories, logs in once per registry, and skips
 * images whose digest the registry already holds.
 */
export async function pushBenchmark(
  engine: DockerEngine,
  settings: Settings,
  manifest: BenchmarkManifest,
  options: {functions: FunctionManifest[]; tag: string; registry: string},
  emit: Emit,
): Promise<PushedImage[]> {
  checkTag(options.tag)
  await engine.ping()
  const {registry} = options
  const images = await Promise.all(
    options.functions.map(async (fn) => {
      const image = localImage(manifest, fn.name, options.tag)
      const info = await engine.inspectImage(image)
      if (!info) {
        throw new UserError(`There is no local image ${image} to push.`, {
          code: 'NOT_BUILT',
          fix: `Build it first: \`faas build ${manifest.name} --function ${fn.name} --tag ${options.tag}\`.`,
        })
      }
      return {fn, image, info, repository: deployedName(manifest.name, fn.name)}
    }),
  )
  if (isEcrRegistry(registry)) {
    const {ecr} = createAwsClients(settings)
    for (const {repository} of images) {
      const repo = await ensureRepository(ecr, repository)
      if (repo.created) emit({kind: 'done', subject: repository, message: `Created ECR repository ${repo.uri}`})
    }
  }
  const login = await loginFor(engine, settings, registry, emit)

  return Promise.all(
    images.map(async ({fn, info, repository}): Promise<PushedImage> => {
      const started = performance.now()
      const uri = imageRef(registry, repository, options.tag)
      const subject = `${manifest.name}/${fn.name}`
      emit({kind: 'start', subject, message: `Checking ${uri} in the registry…`})
      const held = await remoteDigest(registry, repository, options.tag, login).catch(() => undefined)
      if (held && info.repoDigests.includes(`${registry}/${repository}@${held}`)) {
        emit({kind: 'done', subject, message: `${uri} is already in the registry (${held})`})
        return {
          function: fn.name,
          uri,
          digest: held,
          architecture: info.architecture,
          skipped: true,
          bytesPushed: 0,
          seconds: (performance.now() - started) / 1000,
        }
      }
      await engine.tag(info.id, uri)
      emit({kind: 'start', subject, message: `Pushing ${uri}…`})
      const pushed = await engine.push(uri, login && toEngineAuth(login), subject, emit)
      const seconds = (performance.now() - started) / 1000
      emit({
        kind: 'done',
        subject,
        message:
          `Pushed ${uri}@${pushed.digest} (${(pushed.bytesPushed / 1e6).toFixed(1)} MB ` +
          `sent, ${seconds.toFixed(1)} s)`,
      })
      return {
        function: fn.name,
        uri,
        digest: pushed.digest,
        architecture: info.architecture,
        skipped: false,
        bytesPushed: pushed.bytesPushed,
        seconds,
      }
    }),
  )
}
