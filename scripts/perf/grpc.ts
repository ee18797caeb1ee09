/**
 * gRPC load-generator figures: `faas bench --protocol grpc`'s invoker (helloworld.Greeter/SayHello over
 * one @grpc/grpc-js channel) against a trivial Greeter in another process, at 200 and 1000 rps, sleeping
 * and --precise schedules: requested vs. achieved rate, send lateness p50/p99 against the schedule,
 * client latency and client CPU per request.
 *
 *   node --import tsx scripts/perf/grpc.ts [seconds per rate, default 5]
 * Smoke mode (FAAS_PERF_SMOKE=1): 0.3 s per rate, 200 rps only.
 */
import {grpcProtocol} from '../../src/bench/protocols/grpc.js'
import {LOAD_HEADER, loadRow, startServer} from './lib/load.js'
import {sized} from './lib/smoke.js'

const seconds = Number(process.argv[2] ?? sized(5, 0.3))
const RATES = sized([200, 1000], [200])

// A Greeter that answers at once, hand-encoding HelloReply{message = 1} (no proto files needed).
const SERVER = `
const grpc = require('@grpc/grpc-js')
const reply = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('{}')])
const server = new grpc.Server()
server.addService({SayHello: {path: '/helloworld.Greeter/SayHello', requestStream: false, responseStream: false, \
requestDeserialize: (b) => b, responseSerialize: (b) => b}}, {SayHello: (call, callback) => callback(null, reply)})
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => { if (error) throw error; \
console.log(port) })
`

const server = await startServer(SERVER, 'Greeter')
const address = `127.0.0.1:${server.port}`
try {
  console.log(
    `faas bench --protocol grpc vs. a trivial Greeter in another process (${seconds} s per rate, fixed interval, ` +
      `one channel)`,
  )
  console.log(LOAD_HEADER)
  for (const [mode, rps] of (['sleep', 'precise'] as const).flatMap((m) => RATES.map((r) => [m, r] as const))) {
    const invoker = await grpcProtocol({timeoutMs: 30_000})
    await invoker.check([address])
    const row = await loadRow(mode, invoker.invoke, {
      functions: [address],
      payload: '{"name":"perf"}',
      rps,
      durationS: seconds,
      maxInFlight: 1000,
      precise: mode === 'precise',
      protocol: 'grpc',
    })
    invoker.close()
    console.log(row)
  }
} finally {
  server.stop()
}
