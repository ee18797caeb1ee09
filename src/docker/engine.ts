import type Docker from 'dockerode'
import {createRequire} from 'node:module'
import type tarFs from 'tar-fs'
import {createGzip} from 'node:zlib'

import {UserError, messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {decodeBuildkitStatus, readJsonLines} from './buildkit.js'

// CommonJS packages loaded where they are used.
const require = createRequire(import.meta.url)

/** What the rest of faas needs to know about a local image. */
/**
 * A message of the engine's BuildKit build stream: aux is the image id, or a base64 StatusResponse on trace messages.
 */
interface BuildMessage {
  error?: string
  errorDetail?: {message?: string}
  id?: string
  aux?: string | {ID?: string}
}

/** A message of the engine's push stream. */
interface PushMessage {
  error?: string
  id?: string
  status?: string
  aux?: {Digest?: string}
  progressDetail?: {current?: number}
}

export interface ImageInfo {
  id: string
  architecture: string
  os: string
  sizeBytes: number
  repoTags: string[]
  /** `repo@sha256:…` entries the engine learnt from pushes and pulls. */
  repoDigests: string[]
  labels: Record<string, string>
  /** The image's ENTRYPOINT. */
  entrypoint?: string[]
}

export interface BuildRequest {
  /** Folder sent as the build context. */
  contextDir: string
  /** Files (relative to contextDir) to send; everything when absent. */
  files?: string[]
  /** Host folders sent inside the context too, by path in the context (e.g. a shim many Dockerfiles share). */
  extraDirs?: Record<string, string>
  /** Dockerfile path relative to contextDir. */
  dockerfile: string
  tags: string[]
  platform: string
  buildArgs?: Record<string, string>
  labels?: Record<string, string>
  /** Ignore the build cache. */
  noCache?: boolean
}

export interface BuildResult {
  imageId: string
  /** Build steps (`[n/m] …`) that ran rather than coming from the cache. */
  stepsRun: string[]
  stepsCached: string[]
}

/** Registry credentials for one push; sent to the engine in the X-Registry-Auth header, never logged. */
export interface RegistryAuth {
  username: string
  password: string
  serveraddress: string
}

export interface PushResult {
  digest: string
  /** Bytes the engine reported uploading for layers (0 when every layer already existed). */
  bytesPushed: number
  layersPushed: number
  layersExisting: number
}

// Dockerfile steps, as BuildKit names them; FROM only resolves the base, it builds no layer.
const STEP = /^\[\d+\/\d+\] (?!FROM )/

/** Where dockerode will connect, and why, for the "engine not reachable" message. */
export function describeDockerHost(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_HOST) return `${env.DOCKER_HOST} (from DOCKER_HOST)`
  return 'unix:///var/run/docker.sock (the default; DOCKER_HOST is not set)'
}

/**
 * The one adapter over the Docker Engine API. Narrow on purpose: only what faas uses.
 * Progress goes out as events; failures the user can act on become UserErrors.
 */
export class DockerEngine {
  #docker?: Docker

  constructor(docker?: Docker) {
    this.#docker = docker
  }

  /** dockerode, loaded and connected on first use (commands that never reach the engine do not load it). */
  get docker(): Docker {
    this.#docker ??= new (require('dockerode') as typeof Docker)()
    return this.#docker
  }

  /** Fails with a UserError that says how DOCKER_HOST was resolved when the engine does not answer. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping()
    } catch (error) {
      throw new UserError(`Cannot reach the Docker engine at ${describeDockerHost()}: ${messageOf(error)}.`, {
        code: 'ENGINE_UNREACHABLE',
        fix:
          'Start the engine (on a bare machine: `bash scripts/stack.sh services`) or point DOCKER_HOST at a ' +
          'running one, e.g. DOCKER_HOST=unix:///var/run/docker.sock.',
        cause: error,
      })
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect()
      return {
        id: info.Id,
        architecture: info.Architecture,
        os: info.Os,
        sizeBytes: info.Size,
        repoTags: info.RepoTags ?? [],
        repoDigests: info.RepoDigests ?? [],
        labels: info.Config?.Labels ?? {},
        entrypoint: info.Config?.Entrypoint === undefined ? undefined : [info.Config.Entrypoint].flat(),
      }
    } catch (error) {
      if ((error as {statusCode?: number}).statusCode === 404) return undefined
      throw error
    }
  }

  /** Builds with BuildKit through the Engine API; `subject` names the build in events. */
  async build(request: BuildRequest, subject: string, emit: Emit): Promise<BuildResult> {
    const steps = new Map<string, {name: string; cached: boolean; done: boolean}>()
    const logTail: string[] = []
    let imageId: string | undefined
    let failure: string | undefined

    const stream = await this.docker.buildImage(
      request.extraDirs && Object.keys(request.extraDirs).length > 0
        ? packContext(request)
        : {context: request.contextDir, src: request.files ?? ['.']},
      {
        t: request.tags,
        dockerfile: request.dockerfile,
        platform: request.platform,
        buildargs: request.buildArgs ?? {},
        labels: request.labels ?? {},
        nocache: request.noCache ?? false,
        version: '2',
      } as unknown as Docker.ImageBuildOptions,
    )
    try {
      await readJsonLines<BuildMessage>(stream, (message) => {
        if (message.error) failure = message.errorDetail?.message ?? message.error
        if (message.id === 'moby.image.id' && typeof message.aux === 'object' && message.aux.ID)
          imageId = message.aux.ID
        if (message.id !== 'moby.buildkit.trace' || typeof message.aux !== 'string' || !message.aux) return
        const status = decodeBuildkitStatus(message.aux)
        for (const vertex of status.vertexes) {
          const known = steps.get(vertex.digest) ?? {name: vertex.name, cached: false, done: false}
          if (!steps.has(vertex.digest) && STEP.test(vertex.name))
            emit({kind: 'progress', subject, message: vertex.name})
          known.cached ||= vertex.cached
          known.done ||= Boolean(vertex.completed)
          steps.set(vertex.digest, known)
          if (vertex.error) failure ??= `${vertex.error}`
        }
        for (const log of status.logs) {
          for (const line of Buffer.from(log.msg).toString('utf8').split(/\r?\n/)) {
            if (!line.trim()) continue
            logTail.push(line.trimEnd())
            if (logTail.length > 40) logTail.shift()
            emit({kind: 'log', subject, message: line.trimEnd()})
          }
        }
      })
    } catch (error) {
      failure ??= messageOf(error)
    }

    const named = [...steps.values()].filter((step) => STEP.test(step.name))
    if (failure !== undefined || !imageId) {
      const step = named.filter((s) => !s.cached).at(-1)?.name
      throw new UserError(
        `Building ${subject} failed${step ? ` at step \`${step}\`` : ''}: ` +
          `${failure ?? 'the engine returned no image'}.` +
          (logTail.length > 0 ? `\nLast lines of its log:\n  ${logTail.slice(-12).join('\n  ')}\n` : ''),
        {code: 'BUILD_FAILED', fix: `Fix ${request.dockerfile} or the files it uses, then build again.`},
      )
    }
    return {
      imageId,
      stepsRun: named.filter((s) => !s.cached).map((s) => s.name),
      stepsCached: named.filter((s) => s.cached).map((s) => s.name),
    }
  }

  async tag(source: string, target: string): Promise<void> {
    const at = target.lastIndexOf(':')
    const hasTag = at > target.lastIndexOf('/')
    await this.docker
      .getImage(source)
      .tag({repo: hasTag ? target.slice(0, at) : target, tag: hasTag ? target.slice(at + 1) : 'latest'})
  }

  /** Checks credentials against a registry through the engine (POST /auth): no `docker login`, no argv. */
  async checkAuth(auth: RegistryAuth): Promise<void> {
    await this.docker.checkAuth(auth)
  }

  /** Pushes `ref` (registry/repo:tag) with auth; returns the manifest digest and what was uploaded. */
  async push(ref: string, auth: RegistryAuth | undefined, subject: string, emit: Emit): Promise<PushResult> {
    const layerBytes = new Map<string, number>()
    let layersExisting = 0
    let digest: string | undefined
    let failure: string | undefined
    try {
      // Engine 20.10 refuses a push without X-Registry-Auth, so an open registry gets an empty one.
      const stream = await this.docker.getImage(ref).push({authconfig: auth ?? {}} as object)
      await readJsonLines<PushMessage>(stream, (event) => {
        if (event.error) failure = event.error
        if (event.aux?.Digest) digest = event.aux.Digest
        const layer = String(event.id ?? '')
        switch (event.status) {
          case 'Pushing':
            layerBytes.set(layer, Math.max(layerBytes.get(layer) ?? 0, event.progressDetail?.current ?? 0))
            break
          case 'Layer already exists':
            layersExisting++
            emit({kind: 'progress', subject, message: `layer ${layer} already in the registry`})
            break
          case 'Pushed':
            layerBytes.set(layer, layerBytes.get(layer) ?? 0)
            emit({kind: 'progress', subject, message: `layer ${layer} pushed`})
            break
        }
      })
    } catch (error) {
      failure ??= messageOf(error)
    }
    if (failure !== undefined || !digest) throw pushError(ref, failure ?? 'the engine reported no digest')
    return {
      digest,
      bytesPushed: [...layerBytes.values()].reduce((a, b) => a + b, 0),
      layersPushed: layerBytes.size,
      layersExisting,
    }
  }
}

function pushError(ref: string, reason: string): UserError {
  const registry = ref.split('/')[0]
  if (/unauthorized|authentication required|denied|no basic auth/i.test(reason)) {
    return new UserError(`The registry ${registry} refused the push of ${ref}: ${reason}.`, {
      code: 'REGISTRY_AUTH',
      fix:
        `Log in first (\`faas login --registry ${registry}\`, password on standard input) or check that the ` +
        `account may push to this repository.`,
    })
  }
  if (/connection refused|no such host|dial tcp|i\/o timeout|EOF/i.test(reason)) {
    return new UserError(`The registry ${registry} cannot be reached to push ${ref}: ${reason}.`, {
      code: 'REGISTRY_UNREACHABLE',
      fix:
        'Check that the registry is running and the address is right (--registry or FAAS_REGISTRY); for the ' +
        'local test registry run `bash scripts/stack.sh services`.',
    })
  }
  return new UserError(`Pushing ${ref} failed: ${reason}.`, {code: 'PUSH_FAILED'})
}

/**
 * The build context as one gzipped tar: the context folder, then each extra folder under its path in
 * the context (the Engine API takes one context; BuildKit's named contexts need a buildx session).
 */
function packContext(request: BuildRequest): NodeJS.ReadableStream {
  const tar = require('tar-fs') as typeof tarFs
  const extras = Object.entries(request.extraDirs ?? {})
  const packNext = (pack: ReturnType<typeof tarFs.pack>, index: number): void => {
    const [at, dir] = extras[index]!
    const last = index === extras.length - 1
    tar.pack(dir, {
      pack: pack as never,
      finalize: last,
      map: (header) => ({...header, name: header.name === '.' ? at : `${at}/${header.name}`}),
      ...(last ? {} : {finish: (next: unknown) => packNext(next as never, index + 1)}),
    })
  }
  const pack = tar.pack(request.contextDir, {
    entries: request.files,
    finalize: false,
    finish: (next) => packNext(next as never, 0),
  })
  return pack.pipe(createGzip())
}
