import {stat} from 'node:fs/promises'
import {join} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {type BenchmarkManifest, deployedName, type FunctionManifest} from '../core/manifest.js'
import {checkTag, imageRef} from '../core/names.js'
import {projectPath} from '../core/paths.js'
import type {Platform} from '../core/platform.js'
import type {DockerEngine} from '../docker/engine.js'
import {baseImageRef, buildBaseImages} from './base.js'

export interface BuildOptions {
  functions: FunctionManifest[]
  platform: Platform
  tag: string
  /** "local" for faas's offline base, an image reference, or undefined for the Dockerfile's default (the AWS base). */
  baseImage?: string
  /** Registry to tag for as well (e.g. the account's ECR), when known. */
  registry?: string
  noCache?: boolean
  /** More --build-arg values (an experiment's variant); FUNCTION, HANDLER and BASE_IMAGE win. */
  buildArgs?: Record<string, string>
}

export interface BuiltImage {
  function: string
  /** The engine-local name push and the local target use: `<benchmark>-<function>:<tag>`. */
  image: string
  /** The registry URI it is also tagged with, when a registry was known. */
  uri?: string
  imageId: string
  architecture: string
  sizeBytes: number
  stepsRun: string[]
  seconds: number
}

/**
 * Where the shared serving shim (docker/serving: faas_serving.py, requirements.txt) sits in every benchmark's build
 * context.
 */
export const SERVING_SHIM_CONTEXT = '.faas/serving'

/** The local image name of a benchmark function. */
export const localImage = (manifest: BenchmarkManifest, fn: string, tag: string): string =>
  imageRef(undefined, deployedName(manifest.name, fn), tag)

/** Builds the chosen functions of a benchmark concurrently (BuildKit shares the common layers). */
export async function buildBenchmark(
  engine: DockerEngine,
  manifest: BenchmarkManifest,
  options: BuildOptions,
  emit: Emit,
): Promise<BuiltImage[]> {
  checkTag(options.tag)
  for (const fn of options.functions) {
    if (!(await stat(join(manifest.dir, fn.dockerfile)).catch(() => undefined))) {
      throw new UserError(`Benchmark ${manifest.name} has no ${fn.dockerfile} (needed to build ${fn.name}).`, {
        code: 'NO_DOCKERFILE',
        fix:
          `Add ${join(manifest.dir, fn.dockerfile)} (see benchmarks/map-reduce/docker/Dockerfile.Lambda), or set ` +
          `"dockerfile" for the function in benchmark.json.`,
      })
    }
    if (!(await stat(join(manifest.dir, fn.name)).catch(() => undefined))) {
      throw new UserError(`Benchmark ${manifest.name} has no source folder ${fn.name}/ for function ${fn.name}.`, {
        code: 'NO_FUNCTION_SOURCE',
        fix: `Put the handler in ${join(manifest.dir, fn.name)}/.`,
      })
    }
  }
  await engine.ping()
  let baseImage = options.baseImage
  if (baseImage === 'local') {
    baseImage = baseImageRef(options.platform)
    await buildBaseImages(engine, {platforms: [options.platform]}, emit)
  }
  return Promise.all(options.functions.map((fn) => buildFunction(engine, manifest, fn, {...options, baseImage}, emit)))
}

async function buildFunction(
  engine: DockerEngine,
  manifest: BenchmarkManifest,
  fn: FunctionManifest,
  options: BuildOptions,
  emit: Emit,
): Promise<BuiltImage> {
  const started = performance.now()
  const image = localImage(manifest, fn.name, options.tag)
  const uri = options.registry
    ? imageRef(options.registry, deployedName(manifest.name, fn.name), options.tag)
    : undefined
  const subject = `${manifest.name}/${fn.name}`
  emit({kind: 'start', subject, message: `Building ${subject} for ${options.platform}…`})
  const built = await engine.build(
    {
      contextDir: manifest.dir,
      // Every benchmark's docker/Dockerfile serves its handler through the one shared gRPC + HTTP shim.
      extraDirs: {[SERVING_SHIM_CONTEXT]: projectPath('docker', 'serving')},
      dockerfile: fn.dockerfile,
      tags: uri ? [image, uri] : [image],
      platform: options.platform,
      buildArgs: {
        ...options.buildArgs,
        FUNCTION: fn.name,
        HANDLER: fn.handler,
        ...(options.baseImage ? {BASE_IMAGE: options.baseImage} : {}),
      },
      labels: {'dev.faas.benchmark': manifest.name, 'dev.faas.function': fn.name},
      noCache: options.noCache,
    },
    subject,
    emit,
  )
  const info = await engine.inspectImage(built.imageId)
  const seconds = (performance.now() - started) / 1000
  const steps = built.stepsRun.length === 0 ? 'nothing rebuilt' : `${built.stepsRun.length} step(s) run`
  emit({
    kind: 'done',
    subject,
    message:
      `Built ${subject}: ${info?.architecture}, ${((info?.sizeBytes ?? 0) / 1e6).toFixed(0)} ` +
      `MB, ${steps}, ${seconds.toFixed(1)} s`,
  })
  return {
    function: fn.name,
    image,
    uri,
    imageId: built.imageId,
    architecture: info?.architecture ?? '',
    sizeBytes: info?.sizeBytes ?? 0,
    stepsRun: built.stepsRun,
    seconds,
  }
}
