import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {runContainer, type RunningContainer, type RunSpec} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {addressOn, onFunctionNetwork} from '../docker/networks.js'
import {ENV_FILE, envFileText, hiddenEnv, sourcingEntrypoint, type Launch} from './container-spec.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/**
 * The engine side of an environment: how its variables reach the process, and running its
 * container on the functions' network. The environment (environment.ts) owns what runs in it.
 */

/**
 * How the container runs: Lambda's variables visible, the ones that may be secrets in a 0600
 * file mounted read-only and sourced by a /bin/sh wrapper before the image's entry point.
 * `dispose` removes the file once the environment is gone.
 */
export async function launchWith(
  engine: DockerEngine,
  fn: LocalFunction,
  env: Record<string, string>,
): Promise<{launch: Launch; dispose(): void}> {
  const {visible, hidden} = hiddenEnv(fn, env)
  if (Object.keys(hidden).length === 0)
    return {launch: {entrypoint: fn.entryPoint, cmd: fn.command, env: visible}, dispose: () => {}}
  const dir = mkdtempSync(join(tmpdir(), 'faas-env-'))
  const dispose = () => rmSync(dir, {recursive: true, force: true})
  try {
    const file = join(dir, 'env')
    writeFileSync(file, envFileText(hidden), {mode: 0o600})
    const image = (await engine.docker.getImage(fn.imageUri).inspect()) as {
      Config?: {Entrypoint?: string[] | null; Cmd?: string[] | null}
    }
    const original = [...(fn.entryPoint ?? image.Config?.Entrypoint ?? []), ...(fn.command ?? image.Config?.Cmd ?? [])]
    return {launch: {...sourcingEntrypoint(original), env: visible, binds: [`${file}:${ENV_FILE}:ro`]}, dispose}
  } catch (error) {
    dispose()
    throw error
  }
}

/**
 * Creates and starts the container (on the functions' network when there is one) and finds its
 * address there; `starting` is called right before the start request, where Lambda's init begins.
 */
export async function runSandbox(
  engine: DockerEngine,
  spec: RunSpec,
  options: Pick<ServiceOptions, 'network'>,
  starting: () => void,
): Promise<{container: RunningContainer; address?: string}> {
  const network = options.network
  if (!network) return {container: await runContainer(engine, spec, starting)}
  const container = await onFunctionNetwork(engine, () => runContainer(engine, spec, starting))
  return {container, address: await addressOn(engine, container.id, network.name).catch(() => undefined)}
}
