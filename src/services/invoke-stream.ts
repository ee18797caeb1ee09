import type {Emit} from '../core/events.js'
import type {InvokeOutcome, InvokeRequest} from '../core/invoke.js'
import {DockerEngine, type ImageInfo} from '../docker/engine.js'
import type {Target} from '../targets/target.js'
import {invokeFunction} from './deploy.js'

/**
 * An image on faas's Python base that kept its entrypoint runs Python's managed runtime (the runtime interface
 * client), which does not stream on Lambda: only Node.js's managed runtime and custom runtimes do.
 */
export const runsManagedPython = (image: ImageInfo): boolean =>
  image.labels['dev.faas.base'] === 'lambda-python' && (image.entrypoint ?? []).join(' ') === '/lambda-entrypoint.sh'

/** Why a streamed call of `name` will come back in one piece, when its image says so (and the engine has it). */
async function notStreaming(target: Target, name: string, engine: DockerEngine): Promise<string | undefined> {
  const imageUri = (await target.describe(name).catch(() => undefined))?.imageUri
  const image = imageUri ? await engine.inspectImage(imageUri).catch(() => undefined) : undefined
  if (!image || !runsManagedPython(image)) return undefined
  return (
    `${name} runs Python's managed runtime, which does not stream on Lambda: its answer arrives in one piece ` +
    `(Node.js's managed runtime and custom runtimes stream)`
  )
}

/**
 * `faas invoke --stream`: InvokeWithResponseStream, each chunk to `onChunk` as it arrives; first a notice when the
 * function's runtime does not stream.
 */
export async function invokeStreamed(
  target: Target,
  request: Omit<InvokeRequest, 'onChunk'>,
  onChunk: (bytes: Buffer) => void,
  emit: Emit,
  engine: DockerEngine = new DockerEngine(),
): Promise<InvokeOutcome> {
  const notice = await notStreaming(target, request.name, engine)
  if (notice) emit({kind: 'warn', subject: request.name, message: notice})
  return invokeFunction(target, {...request, onChunk})
}
