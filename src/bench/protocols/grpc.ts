import type {Client, ServiceError} from '@grpc/grpc-js'

import {UserError} from '../../core/errors.js'
import type {Invoke} from '../runner.js'
import {epochNowUs, type ProtocolInvoker} from './invoker.js'

/**
 * vSwarm's helloworld.proto:
 * `rpc SayHello (HelloRequest{string name = 1}) returns (HelloReply{string message = 1})`.
 */
const HELLOWORLD = {
  nested: {
    helloworld: {
      nested: {
        HelloRequest: {fields: {name: {type: 'string', id: 1}}},
        HelloReply: {fields: {message: {type: 'string', id: 1}}},
      },
    },
  },
}

const METHOD = '/helloworld.Greeter/SayHello'

/**
 * A request the server must refuse while decoding, before any handler runs: field 1 with wire type 7,
 * which no protobuf parser accepts. A Greeter answers INTERNAL (or INVALID_ARGUMENT), a server without
 * the method UNIMPLEMENTED, so endpoints are checked without running the function.
 */
const PROBE = Buffer.from([0x0f])

interface Answer {
  code: number
  details: string
  message?: string
  startedAtUs: number
  clientLatencyUs: number
}

/**
 * vSwarm-style gRPC functions: helloworld.Greeter/SayHello with the event's JSON text as `name` (the
 * servers parse a JSON object as the event) and the result as `message`; one channel per host:port,
 * each call bounded by the deadline (vSwarm's -grpcTimeout). A non-OK status is an error whose text
 * names the status; statusCode is the gRPC code (0 = OK). @grpc/grpc-js and protobufjs are loaded
 * only here, so other protocols do not pay for them.
 */
export async function grpcProtocol(options: {timeoutMs: number}): Promise<ProtocolInvoker> {
  const grpc = await import('@grpc/grpc-js')
  const protobuf = (await import('protobufjs')).default
  const root = protobuf.Root.fromJSON(HELLOWORLD)
  const HelloRequest = root.lookupType('helloworld.HelloRequest')
  const HelloReply = root.lookupType('helloworld.HelloReply')
  const clients = new Map<string, Client>()
  const clientOf = (address: string): Client => {
    let client = clients.get(address)
    if (!client) {
      // No size limits: benchmark results (a rendered table, an image) can exceed grpc-js's 4 MB default.
      client = new grpc.Client(address, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
      })
      clients.set(address, client)
    }
    return client
  }
  const statusName = (code: number) => grpc.status[code] ?? `status ${code}`

  const call = (address: string, request: Buffer) =>
    new Promise<Answer>((resolve) => {
      const startedAtUs = epochNowUs()
      const t0 = performance.now()
      clientOf(address).makeUnaryRequest<Buffer, {message?: string}>(
        METHOD,
        (raw) => raw,
        (bytes) => HelloReply.toObject(HelloReply.decode(bytes)) as {message?: string},
        request,
        new grpc.Metadata(),
        {deadline: Date.now() + options.timeoutMs},
        (error: ServiceError | null, reply?: {message?: string}) => {
          const clientLatencyUs = (performance.now() - t0) * 1000
          // grpc-js appends an empty "Resolution note:" to connection failures; it says nothing.
          if (error)
            resolve({
              code: error.code,
              details: (error.details || error.message).replace(/\.?\s*Resolution note:\s*$/, ''),
              startedAtUs,
              clientLatencyUs,
            })
          else resolve({code: grpc.status.OK, details: '', message: reply?.message ?? '', startedAtUs, clientLatencyUs})
        },
      )
    })

  const invoke: Invoke = async ({name, payload}) => {
    const answer = await call(name, Buffer.from(HelloRequest.encode(HelloRequest.create({name: payload})).finish()))
    return {
      name,
      statusCode: answer.code,
      payload: answer.message ?? '',
      ...(answer.code === grpc.status.OK ? {} : {functionError: `gRPC ${statusName(answer.code)}: ${answer.details}`}),
      startedAtUs: answer.startedAtUs,
      clientLatencyUs: answer.clientLatencyUs,
    }
  }

  return {
    protocol: 'grpc',
    invoke,
    async check(endpoints) {
      for (const address of new Set(endpoints)) {
        const {code, details} = await call(address, PROBE)
        if (code === grpc.status.UNIMPLEMENTED) {
          throw new UserError(
            `${address} answers gRPC but has no helloworld.Greeter/SayHello (${statusName(code)}: ${details}).`,
            {
              code: 'NOT_A_GREETER',
              fix:
                'Point the endpoints file at a vSwarm-style function server (helloworld.Greeter/SayHello, as ' +
                '`faas serve <benchmark> --protocol grpc` runs), or bench this server with the protocol it speaks.',
            },
          )
        }
        if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) {
          throw new UserError(`Endpoint ${address} does not answer gRPC (${statusName(code)}: ${details}).`, {
            code: 'ENDPOINT_UNREACHABLE',
            fix:
              'Start the server (e.g. `faas serve <benchmark> --protocol grpc`, which prints an endpoints file) ' +
              'or fix the hostname[:port] in the endpoints file; --port sets the port of entries without one, ' +
              '--grpcTimeout the deadline.',
          })
        }
      }
    },
    close: () => {
      for (const client of clients.values()) client.close()
      clients.clear()
    },
  }
}
