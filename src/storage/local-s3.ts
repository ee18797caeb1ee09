import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {withFileLock} from '../core/files.js'
import {faasHome, projectPath} from '../core/paths.js'
import {pollUntil} from '../core/wait.js'
import type {Platform} from '../core/platform.js'
import {findContainersByLabel, isRunning, removeContainer, startContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {baseImageRef, buildBaseImages} from '../images/base.js'

const LABEL = 'dev.faas.local-s3'

/** moto's version as requirements/moto.txt pins it: it names the store's image, so a new pin builds a new one. */
function motoVersion(): string {
  const pin = /^moto(?:\[[^\]]*\])?==([\w.]+)\s*$/m.exec(readFileSync(projectPath('requirements', 'moto.txt'), 'utf8'))
  if (!pin) throw new Error('requirements/moto.txt pins no moto version (moto[...]==X.Y.Z)')
  return pin[1]!
}

export const localS3Endpoint = (env: NodeJS.ProcessEnv = process.env): string =>
  `http://127.0.0.1:${env.FAAS_LOCAL_S3_PORT ?? '9002'}`

/** Whether the local S3 store answers on its endpoint. */
export const localS3Answers = (endpoint = localS3Endpoint()) => answers(endpoint)

const answers = (endpoint: string) =>
  fetch(`${endpoint}/`, {signal: AbortSignal.timeout(2000)}).then(
    () => true,
    () => false,
  )

/**
 * The local target's S3: a moto server in a container on 127.0.0.1, started once and kept (like
 * the local Lambda service) so reruns find their input. Its image is built here, from the offline
 * base when `baseImage` is "local", since no image can be pulled on an offline machine.
 */
export async function ensureLocalS3(engine: DockerEngine, options: {baseImage?: string}, emit: Emit): Promise<string> {
  const endpoint = localS3Endpoint()
  if (await answers(endpoint)) return endpoint
  await engine.ping()
  const port = new URL(endpoint).port
  // Two faas commands at once: the second waits for the first's store instead of removing it.
  return withFileLock(join(faasHome(), 'local', `s3-${port}`), () =>
    startLocalS3(engine, endpoint, port, options, emit),
  )
}

async function startLocalS3(
  engine: DockerEngine,
  endpoint: string,
  port: string,
  options: {baseImage?: string},
  emit: Emit,
): Promise<string> {
  if (await answers(endpoint)) return endpoint
  for (const existing of await findContainersByLabel(engine, `${LABEL}=${port}`)) {
    // Still starting (another process's, or a slow start): wait for it; only a dead one is stale.
    const running = () => isRunning(engine, existing.id)
    if (
      (await running()) &&
      (await pollUntil(() => answers(endpoint), {
        timeoutMs: 60_000,
        maxDelayMs: 1000,
        giveUp: async () => !(await running()),
      }))
    )
      return endpoint
    await removeContainer(engine, existing.id)
  }

  const platform: Platform = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64'
  const image = `faas/local-s3:moto-${motoVersion()}-${platform.split('/')[1]}`
  if (!(await engine.inspectImage(image))) {
    let baseImage = options.baseImage
    if (baseImage === 'local') {
      await buildBaseImages(engine, {platforms: [platform]}, emit)
      baseImage = baseImageRef(platform)
    }
    emit({kind: 'start', subject: 'local S3', message: `Building ${image}…`})
    await engine.build(
      {
        contextDir: projectPath('docker', 'local-s3'),
        extraDirs: {requirements: projectPath('requirements')},
        dockerfile: 'Dockerfile',
        tags: [image],
        platform,
        buildArgs: baseImage ? {BASE_IMAGE: baseImage} : {},
      },
      'local S3',
      emit,
    )
  }
  emit({kind: 'start', subject: 'local S3', message: `Starting the local S3 store on ${endpoint}…`})
  const id = await startContainer(engine, {
    image,
    name: `faas-local-s3-${port}`,
    cmd: ['-H', '127.0.0.1', '-p', port],
    env: {},
    labels: {[LABEL]: port},
    memoryMb: 1024,
    nanoCpus: 1e9,
  })
  // Wait for it to answer, or for it to die (port taken, bad image), whichever comes first.
  const up = await pollUntil(() => answers(endpoint), {
    timeoutMs: 60_000,
    maxDelayMs: 1000,
    giveUp: async () => !(await isRunning(engine, id)),
  })
  if (!up) {
    await removeContainer(engine, id)
    throw new UserError(`The local S3 store did not start on ${endpoint}.`, {
      code: 'LOCAL_S3_FAILED',
      fix:
        'Check that the port is free (FAAS_LOCAL_S3_PORT chooses another) and that Docker can run containers ' +
        'with host networking.',
    })
  }
  emit({kind: 'done', subject: 'local S3', message: `Local S3 store ready on ${endpoint}`})
  return endpoint
}

/** Stops and removes the local S3 store (its data goes with it). */
export async function stopLocalS3(engine: DockerEngine, port = new URL(localS3Endpoint()).port): Promise<number> {
  // No engine, no store to stop.
  const containers = await findContainersByLabel(engine, `${LABEL}=${port}`).catch(() => [])
  for (const container of containers) await removeContainer(engine, container.id)
  return containers.length
}
