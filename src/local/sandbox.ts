import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {runContainer, type RunningContainer, type RunSpec} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {addressOn, onFunctionNetwork} from '../docker/networks.js'
import {
  ENV_FILE,
  envFileText,
  hiddenEnv,
  sourcingEntrypoint,
  tmpSizeMb,
  withTmpDisk,
  type Launch,
} from './container-spec.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/**
 * The engine side of an environment: how its variables reach the process, and running its
 * container on the functions' network. The environment (environment.ts) owns what runs in it.
 */

/** Where the sandbox helper is mounted in every container (a path no image uses). */
export const SANDBOX_INIT = '/.faas-sandbox-init'

/**
 * The static helper for an architecture (docker/sandbox-init, built by scripts/stack.sh and shipped in the
 * package's docker/ folder), or undefined when it was not built: the /bin/sh wrapper is then used.
 * The same relative path from src/local (tsx) and dist/local.
 */
export function sandboxInit(arch: string): string | undefined {
  const file = fileURLToPath(new URL(`../../docker/sandbox-init/bin/faas-sandbox-init-${arch}`, import.meta.url))
  return existsSync(file) ? file : undefined
}

/**
 * The smallest tagged local image of an architecture, for the service's own helper container (the loop keeper): it
 * runs only the static helper, so any image of the machine's architecture does.
 */
export async function nativeImage(engine: DockerEngine, arch: string): Promise<string | undefined> {
  const images = await engine.docker.listImages().catch(() => [])
  const tagged = images
    .filter((image) => (image.RepoTags ?? []).some((tag) => tag !== '<none>:<none>'))
    .sort((a, b) => a.Size - b.Size)
  for (const image of tagged) {
    const info = await engine.inspectImage(image.Id).catch(() => undefined)
    if (info?.architecture === arch) return image.Id
  }
  return undefined
}

/** How the container runs, and what its helper gets from the Runtime API (the hidden variables) if any. */
export interface Launched {
  launch: Launch
  /** The variables the helper fetches once over the environment's Runtime API. */
  delivered?: Record<string, string>
  dispose(): void
}

/**
 * How the container runs: Lambda's variables visible, the ones that may be secrets kept out of
 * `docker inspect`. With the static helper (mounted read-only as the entry point) they are
 * fetched over the environment's own Runtime API and nothing is needed from the image; without
 * it, a 0600 file mounted read-only is sourced by a /bin/sh wrapper (images with a shell only).
 * `dispose` removes the file once the environment is gone. A prepared sandbox (`hold`) always runs the
 * helper, which waits for its variables until a call claims the sandbox (the caller checks it exists).
 */
export async function launchWith(
  engine: DockerEngine,
  fn: LocalFunction,
  env: Record<string, string>,
  arch: string,
  hold = false,
): Promise<Launched> {
  const {visible, hidden} = hiddenEnv(fn, env)
  if (Object.keys(hidden).length === 0 && !hold)
    return {launch: {entrypoint: fn.entryPoint, cmd: fn.command, env: visible}, dispose: () => {}}
  const image = (await engine.docker.getImage(fn.imageUri).inspect()) as {
    Config?: {Entrypoint?: string[] | null; Cmd?: string[] | null}
  }
  const original = [...(fn.entryPoint ?? image.Config?.Entrypoint ?? []), ...(fn.command ?? image.Config?.Cmd ?? [])]
  const helper = sandboxInit(arch)
  if (helper) {
    const launch = {entrypoint: [SANDBOX_INIT], cmd: original, env: visible, binds: [`${helper}:${SANDBOX_INIT}:ro`]}
    return {launch, delivered: hidden, dispose: () => {}}
  }
  const dir = mkdtempSync(join(tmpdir(), 'faas-env-'))
  const file = join(dir, 'env')
  writeFileSync(file, envFileText(hidden), {mode: 0o600})
  return {
    launch: {...sourcingEntrypoint(original), env: visible, binds: [`${file}:${ENV_FILE}:ro`]},
    dispose: () => rmSync(dir, {recursive: true, force: true}),
  }
}

/**
 * Creates and starts the container (on the functions' network when there is one) and finds its
 * address there; `starting` is called right before the start request, where Lambda's init begins.
 * Its /tmp is a disk volume where the service has them (tmp-disk.ts), removed after the container.
 */
export async function runSandbox(
  engine: DockerEngine,
  spec: RunSpec,
  options: Pick<ServiceOptions, 'network' | 'tmpDisks'>,
  starting: () => void,
): Promise<{container: RunningContainer; address?: string}> {
  const size = tmpSizeMb(spec)
  const disk = size ? await options.tmpDisks?.take(size, spec.image) : undefined
  const onDisk = disk ? withTmpDisk(spec, disk.volume) : spec
  const network = options.network
  let container: RunningContainer
  try {
    container = network
      ? await onFunctionNetwork(engine, () => runContainer(engine, onDisk, starting))
      : await runContainer(engine, onDisk, starting)
  } catch (error) {
    await disk?.remove()
    throw error
  }
  if (disk) {
    disk.started()
    // With the engine away the removal fails: the volume is then a leftover the next start sweeps (leftovers.ts).
    void container.exited.then(() => disk.remove(container.id)).catch(() => undefined)
  }
  if (!network) return {container}
  return {container, address: await addressOn(engine, container.id, network.name).catch(() => undefined)}
}

/**
 * Whether a function's sandboxes can be prepared ahead of calls: the static helper holds them (the /bin/sh fallback
 * runs the runtime at once), and asks the environment's Runtime API on the functions' network for its variables.
 */
export const canPrepare = (fn: LocalFunction, options: Pick<ServiceOptions, 'network' | 'hostArchitecture'>): boolean =>
  Boolean(options.network) && sandboxInit(fn.imageArchitecture ?? options.hostArchitecture) !== undefined
