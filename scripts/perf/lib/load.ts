// What the load-generator perf scripts (bench.ts, grpc.ts) share: a trivial server in another
// process, and one measured run of the generator printed as a row of the same table.
import {spawn} from 'node:child_process'

import {type Invoke, type LoadOptions, runLoad} from '../../../src/bench/runner.js'
import {summarize} from '../../../src/bench/stats.js'

/** Runs `source` with node in another process; it prints the port it listens on as its first line. */
export async function startServer(source: string, what: string): Promise<{port: number; stop(): void}> {
  // It ends with our stdin pipe, so it never outlives this script (killed, or cut short by `| head`).
  const ownedSource = `${source}\nprocess.stdin.on('end', () => process.exit(0)).resume()\n`
  const child = spawn(process.execPath, ['-e', ownedSource], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: new URL('../../..', import.meta.url).pathname, // where it finds the project's modules
  })
  const port = await new Promise<number>((resolve, reject) => {
    // console.log colours a number when FORCE_COLOR is set (uvu sets it): read the digits only.
    child.stdout!.once('data', (d: Buffer) =>
      resolve(Number(/\d+/.exec(d.toString().replace(/\x1b\[[\d;]*m/g, ''))?.[0])),
    )
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}`)))
  })
  return {port, stop: () => child.kill()}
}

export const LOAD_HEADER =
  'mode     requested  achieved  sent   errors  dropped  lateness p50/p99 ms  latency p50/p99 ms  client CPU µs/req'

const ms = (us: number | undefined) => (us === undefined ? '-' : (us / 1000).toFixed(3))

/** One run of the load generator, with the CPU this process spent on it, as a row under LOAD_HEADER. */
export async function loadRow(mode: string, invoke: Invoke, options: LoadOptions): Promise<string> {
  const cpu0 = process.cpuUsage()
  const result = await runLoad(invoke, options)
  const cpu = process.cpuUsage(cpu0)
  const s = summarize(result.records, {
    requestedRps: options.rps,
    durationS: options.durationS,
    measuredS: result.measuredS,
    dropped: result.droppedMeasured,
    interrupted: false,
    architecture: 'arm64',
    protocol: options.protocol,
  })
  const cpuPerReq = (cpu.user + cpu.system) / Math.max(1, s.count)
  const columns = [
    [mode, -7],
    [options.rps, 9],
    [s.achievedRps.toFixed(1), 8],
    [s.count, 5],
    [s.errors, 6],
    [s.dropped, 7],
    [`${ms(s.latenessUs?.p50)}/${ms(s.latenessUs?.p99)}`, 19],
    [`${ms(s.latencyUs?.p50)}/${ms(s.latencyUs?.p99)}`, 18],
    [cpuPerReq.toFixed(1), 17],
  ] as const
  return columns.map(([v, w]) => (w < 0 ? String(v).padEnd(-w) : String(v).padStart(w))).join('  ')
}
