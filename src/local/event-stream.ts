import {crc32} from 'node:zlib'

/**
 * AWS's event stream framing (application/vnd.amazon.eventstream), as InvokeWithResponseStream answers: each
 * message is a prelude (total and headers length, CRC32), string headers, the payload and a CRC32 of the whole.
 * The SDKs (the JS SDK's and botocore's event stream parsers) read these unchanged.
 */

function header(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'utf8')
  const v = Buffer.from(value, 'utf8')
  const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length)
  out.writeUInt8(n.length, 0)
  n.copy(out, 1)
  out.writeUInt8(7, 1 + n.length) // string
  out.writeUInt16BE(v.length, 2 + n.length)
  v.copy(out, 4 + n.length)
  return out
}

export function eventMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const head = Buffer.concat(Object.entries(headers).map(([name, value]) => header(name, value)))
  const total = 12 + head.length + payload.length + 4
  const message = Buffer.alloc(total)
  message.writeUInt32BE(total, 0)
  message.writeUInt32BE(head.length, 4)
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8)
  head.copy(message, 12)
  payload.copy(message, 12 + head.length)
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4)
  return message
}

/** A PayloadChunk event: bytes the function wrote. */
export const payloadChunk = (bytes: Buffer): Buffer =>
  eventMessage(
    {':event-type': 'PayloadChunk', ':message-type': 'event', ':content-type': 'application/octet-stream'},
    bytes,
  )

/** The InvokeComplete event that ends the stream: the error (if any) and the log tail. */
export const invokeComplete = (fields: {ErrorCode?: string; ErrorDetails?: string; LogResult?: string}): Buffer =>
  eventMessage(
    {':event-type': 'InvokeComplete', ':message-type': 'event', ':content-type': 'application/json'},
    Buffer.from(JSON.stringify(fields)),
  )
