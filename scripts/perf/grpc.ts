/**
 * gRPC load-generator figures: `faas bench --protocol grpc`'s invoker (helloworld.Greeter/SayHello over
 * one @grpc/grpc-js channel) against a trivial Greeter in another process, at 200 and 1000 rps, sleeping
 * and --precise schedules: requested vs. achieved rate, send lateness p50/p99 against the schedule,
 * client latency and client CPU per request.
 *
 *   node --import tsx scripts/perf/grpc.ts [seconds per rate, default 5]
 */
import {spawn} from 'node:child_process'

import {grpcProtocol} from '../../src/bench/protocols/grpc.js'
import {runLoad} from '../../src/bench/runner.js'
import {summarize} from '../../src/bench/stats.js'

const seconds = Number(process.argv[2] ?? 5)

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

async function startServer(): Promise<{port: number; stop(): void}> {
  const child = spawn(process.execPath, ['-e', SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: new URL('../..', import.meta.url).pathname,
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
    child.once('exit', (code) => reject(new Error(`Greeter exited ${code}`)))
  })
  return {port, stop: () => child.kill()}
}

const ms = (us: number | undefined) => (us === undefined ? '-' : (us / 1000).toFixed(3))

const server = await startServer()
const address = `127.0.0.1:${server.port}`
try {
  console.log(
    `faas bench --protocol grpc vs. a trivial Greeter in another process (${seconds} s per rate, fixed interval, ` +
      `one channel)`,
  )
  console.log(
    'mode     requested  achieved  sent   errors  dropped  lateness p50/p99 ms  latency p50/p99 ms  client CPU µs/req',
  )
  for (const [mode, rps] of [
    ['sleep', 200],
    ['sleep', 1000],
    ['precise', 200],
    ['precise', 1000],
  ] as const) {
    const invoker = await grpcProtocol({timeoutMs: 30_000})
    await invoker.check([address])
    const cpu0 = process.cpuUsage()
    const result = await runLoad(invoker.invoke, {
      functions: [address],
      payload: '{"name":"perf"}',
      rps,
      durationS: seconds,
      maxInFlight: 1000,
      precise: mode === 'precise',
      protocol: 'grpc',
    })
    const cpu = process.cpuUsage(cpu0)
    invoker.close()
    const s = summarize(result.records, {
      requestedRps: rps,
      durationS: seconds,
      measuredS: result.measuredS,
      dropped: result.droppedMeasured,
      interrupted: false,
      architecture: 'arm64',
      protocol: 'grpc',
    })
    const cpuPerReq = (cpu.user + cpu.system) / Math.max(1, s.count)
    console.log(
      `${mode.padEnd(7)}  ${String(rps).padStart(9)}  ${s.achievedRps.toFixed(1).padStart(8)} ` +
        ` ${String(s.count).padStart(5)}  ${String(s.errors).padStart(6)}  ${String(s.dropped).padStart(7)} ` +
        ` ${`${ms(s.latenessUs?.p50)}/${ms(s.latenessUs?.p99)}`.padStart(19)} ` +
        ` ${`${ms(s.latencyUs?.p50)}/${ms(s.latencyUs?.p99)}`.padStart(18)}  ${cpuPerReq.toFixed(1).padStart(17)}`,
    )
  }
} finally {
  server.stop()
}
