import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type protobuf from 'protobufjs'

const require = createRequire(import.meta.url)

/** One BuildKit status message, as the Engine API streams it (base64 protobuf in `aux`). */
export interface BuildkitStatus {
  vertexes: Array<{digest: string; name: string; cached: boolean; started?: object; completed?: object; error: string}>
  logs: Array<{vertex: string; msg: Uint8Array}>
}

let statusType: protobuf.Type | undefined

/** Decodes `moby.buildkit.trace` aux payloads with the schema dockerode ships. */
export function decodeBuildkitStatus(aux: string): BuildkitStatus {
  if (!statusType) {
    // protobufjs is loaded with the first status message: only builds need it.
    const {loadSync} = require('protobufjs') as typeof protobuf
    const dockerodeDir = dirname(require.resolve('dockerode/package.json'))
    statusType = loadSync(join(dockerodeDir, 'lib', 'proto', 'buildkit_status.proto')).lookupType(
      'moby.buildkit.v1.StatusResponse',
    )
  }
  const decoded = statusType.toObject(statusType.decode(Buffer.from(aux, 'base64')), {defaults: true}) as BuildkitStatus
  return decoded
}

/**
 * Reads a newline-delimited JSON stream from the engine, calling `onMessage` for each object (of the shape the caller's
 * endpoint sends).
 */
export async function readJsonLines<Message extends object>(
  stream: NodeJS.ReadableStream,
  onMessage: (message: Message) => void,
): Promise<void> {
  let buffer = ''
  for await (const chunk of stream) {
    buffer += chunk.toString()
    let newline
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim()
      buffer = buffer.slice(newline + 1)
      if (line) onMessage(JSON.parse(line))
    }
  }
  if (buffer.trim()) onMessage(JSON.parse(buffer))
}
