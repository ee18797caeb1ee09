import {Flags} from '@oclif/core'

import {runBench} from '../bench/bench.js'
import {BENCH_LIMITS, benchOptions, functionsToDrive, parseMemoryList} from '../bench/inputs.js'
import {benchProtocol} from '../bench/protocols/index.js'
import {formatSummary} from '../bench/stats.js'
import {shapeFlags, shapeOptions} from '../cli/bench-shape-flags.js'
import {FaasCommand} from '../cli/faas-command.js'
import {numberFlag, portFlag, pricesFlag, targetFlag} from '../cli/flags.js'
import {messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import type {Invoke, InvokeRequest} from '../core/invoke.js'
import {loadSettings, type Settings} from '../core/settings.js'
import {sweepThroughVersions} from '../tune/power-sweep.js'
import {createTarget} from '../targets/index.js'
import {THRESHOLDS_FAILED_EXIT, formatThresholds} from '../bench/thresholds.js'
import {deployTraceCopies} from '../services/trace-copies.js'
import {runWorkersBench} from '../bench/workers/run.js'
import {deployWorkers, workersStorage} from '../services/bench-workers.js'
import type {RunTarget} from '../targets/target.js'

export default class Bench extends FaasCommand {
  static override handlesSignals = true

  static override summary =
    'Drive functions with open-loop load and keep per-invocation records, a summary and an HTML report.'
  static override description =
    'Arrivals at a fixed interval (as the vHive invoker) or Poisson, round-robin over the functions, at most ' +
    '--max-in-flight calls at once (later arrivals are dropped and counted). Ctrl-C stops sending and keeps what ' +
    'was measured. Writes records.jsonl, records.csv, summary.json, rps<achieved>_<latf> (one latency in µs per ' +
    'line) and report.html under --out. --memory sweeps memory sizes; --cold-starts forces cold starts by changing ' +
    'the configuration before each round.'

  static override examples = [
    '<%= config.bin %> bench --endpoints endpoints.json --rps 200 --time 180',
    `<%= config.bin %> bench --function_name F --payload '{}' --rps 200 --time 60 --target aws`,
    '<%= config.bin %> bench -f F --rps 20 --time 30 --memory 128,512,1024,1769,3008',
    '<%= config.bin %> bench -f F --cold-starts 10',
    '<%= config.bin %> bench --protocol grpc --endpoints endpoints-grpc.json --rps 20 --time 60',
    '<%= config.bin %> bench --trace azure-2019/ --trace-minutes 10 --functions 100 --speedup 10 --target local',
    '<%= config.bin %> bench -f F --rps 2000 --time 60 --workers 4 --target aws',
    "<%= config.bin %> bench -f F --ramp 10:200 --time 60 --threshold 'latency:p99<300ms' --threshold 'errors<1%'",
    '<%= config.bin %> bench --protocol http --mix benchmarks/hotel-reservation/mix.yaml --base-url URL --rps 50',
  ]

  static override flags = {
    protocol: Flags.string({
      description:
        'lambda: the Lambda Invoke API (hostname = function name); http: POST / to Knative/vHive-style servers, or ' +
        'POST to a whole http:// URL (a Function URL, an API route); grpc: vSwarm helloworld.Greeter/SayHello ' +
        '(hostname[:port] for both).',
      default: 'lambda',
    }),
    port: portFlag('Port of endpoints without one (vSwarm invoker -port): default 50051 for grpc, 80 for http.'),
    grpcTimeout: Flags.integer({
      aliases: ['grpc-timeout'],
      description: 'Deadline of each gRPC or HTTP call, seconds (vSwarm invoker -grpcTimeout).',
      default: 30,
      min: 1,
    }),
    target: targetFlag(),
    endpoints: Flags.string({
      aliases: ['endpointsFile'],
      description: 'vHive endpoints file: [{"hostname": "<function>", ...}].',
    }),
    function_name: Flags.string({
      char: 'f',
      aliases: ['function-name'],
      description: 'Function to drive (repeatable).',
      multiple: true,
    }),
    payload: Flags.string({char: 'p', description: 'Event as JSON.', default: '{}'}),
    rps: numberFlag({
      description: 'Requested rate, requests per second.',
      default: 1,
      min: 0,
      aboveMin: true,
      max: BENCH_LIMITS.rps,
      example: 200,
    }),
    time: numberFlag({
      description: 'Measured seconds.',
      default: 60,
      min: 0,
      aboveMin: true,
      max: BENCH_LIMITS.time,
      example: 60,
    }),
    warmup: numberFlag({
      description: 'Seconds of load before the measured window (recorded, left out of the summary).',
      default: 0,
      defaultHelp: async () => '0', // oclif's help leaves out a default that is falsy
      min: 0,
      max: BENCH_LIMITS.warmup,
      example: 10,
    }),
    distribution: Flags.string({description: 'Arrival process.', options: ['fixed', 'poisson'], default: 'fixed'}),
    seed: Flags.integer({description: 'Seed of the Poisson arrivals.', default: 1}),
    'max-in-flight': Flags.integer({
      description: 'Cap on calls in flight.',
      default: 1000,
      min: 1,
      max: BENCH_LIMITS['max-in-flight'],
    }),
    precise: Flags.boolean({
      description: 'Keep sends within ~0.1 ms of the schedule (polls; uses a core).',
      default: false,
    }),
    out: Flags.string({char: 'o', description: 'Results folder (default bench-results/<time>).'}),
    latf: Flags.string({description: 'vHive latency file suffix: rps<achieved>_<latf>.', default: 'lat.csv'}),
    arch: Flags.string({
      description: "Architecture for the cost estimate (default: the function's own, else FAAS_PLATFORM).",
      options: ['arm64', 'x86_64'],
    }),
    prices: pricesFlag(),
    memory: Flags.custom<number[]>({
      description: 'Memory sweep: comma-separated MB, e.g. 128,512,1024,1769,3008.',
      exclusive: ['cold-starts'],
      parse: async (input) => parseMemoryList(input),
    })(),
    'cold-starts': Flags.integer({
      description: 'Forced cold starts: rounds of change-config-then-invoke.',
      min: 1,
      max: 1000,
    }),
    workers: Flags.integer({
      description:
        'Send the load from N load-generator functions on the target (faas build load-generator first), each ' +
        'with its share of the schedule, started together; records merged here.',
      min: 1,
      max: 64,
    }),
    ...shapeFlags,
  }

  async run() {
    const {flags, metadata} = await this.parse(Bench)
    const settings = loadSettings()
    const shape = await shapeOptions(
      flags,
      (f) => (flags as Record<string, unknown>)[f] !== undefined && !metadata.flags[f]?.setFromDefault,
    )
    const functions = await functionsToDrive(flags, shape.mix)
    const options = {...benchOptions({...flags, functions, platform: settings.platform}), ...shape}
    const reconfigure = Boolean(options.memorySizes || options.coldStarts)
    let made: Promise<RunTarget> | undefined
    const target = () => (made ??= createTarget(flags.target, settings, {maxInFlight: options.maxInFlight}))
    const {invoker, reconfigurer, architecture} = await benchProtocol(options.protocol!, {
      target,
      reconfigure,
      maxInFlight: options.maxInFlight,
      timeoutS: flags.grpcTimeout,
      mix: options.mix,
    })
    if (!flags.arch && architecture)
      options.architecture = (await architecture(functions[0]!).catch(() => undefined)) ?? options.architecture
    // The first Ctrl-C (or SIGTERM) stops sending and keeps the results; a second one quits, but only
    // after putting back the memory and environment bench changed; a third quits at once.
    const controller = new AbortController()
    let signals = 0
    const onSignal = (signal: NodeJS.Signals) => {
      const code = signal === 'SIGINT' ? 130 : 143
      signals++
      if (signals === 1) {
        this.emit({
          kind: 'warn',
          subject: 'bench',
          message: `${signal}: stopping; calls in flight finish and the results are written (again to quit now)`,
        })
        controller.abort()
      } else if (signals === 2 && reconfigurer) {
        this.emit({
          kind: 'warn',
          subject: 'bench',
          message:
            `${signal}: quitting after restoring the functions' original memory and environment (again to ` +
            `quit without restoring)`,
        })
        reconfigurer.restore().then(
          () => process.exit(code),
          (error) => {
            process.stderr.write(
              `Could not restore the functions' configuration: ${messageOf(error)}. Check their memory and ` +
                `environment (faas deploy puts back the manifest's).\n`,
            )
            process.exit(code)
          },
        )
      } else process.exit(code)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const versions = throughVersions(options, Boolean(flags.workers), target, invoker.invoke, this.emit)
      const deps = {
        invoke: versions?.invoke ?? invoker.invoke,
        check: invoker.check,
        reconfigure: versions?.reconfigure ?? reconfigurer?.reconfigure,
        restore: versions?.restore ?? reconfigurer?.restore,
        deployCopies:
          options.protocol === 'lambda'
            ? async (copies: Parameters<typeof deployTraceCopies>[2]) =>
                deployTraceCopies(await target(), settings, copies, this.emit)
            : undefined,
        emit: this.emit,
        signal: controller.signal,
      }
      const result = flags.workers
        ? await runWorkersBench(
            {...options, workers: flags.workers},
            {...deps, ...workersDeps(target, settings, this.emit)},
          )
        : await runBench(options, deps)
      if (!this.jsonEnabled()) {
        for (const line of formatSummary(result.summary)) this.log(line)
        for (const line of formatThresholds(result.summary.thresholds ?? [])) this.log(line)
        for (const row of result.sweep ?? [])
          this.log(
            `${String(row.memoryMb).padStart(5)} MB  p50 ${row.p50Ms?.toFixed(2) ?? '-'} ms  ` +
              `p99 ${row.p99Ms?.toFixed(2) ?? '-'} ms  $${row.costPerMillionUsd?.toFixed(4) ?? '-'} per 1M`,
          )
        if (result.best) for (const pick of [result.best.fastest, result.best.cheapest]) this.log(pick.text)
        this.log(`report: ${result.dir}/report.html`)
      }
      // A failed threshold is its own exit code, after the results are written and printed (docs/bench.md).
      if (result.summary.thresholds?.some((t) => !t.pass)) process.exitCode = THRESHOLDS_FAILED_EXIT
      return result
    } finally {
      invoker.close()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

/** bench --workers: the worker functions are deployed, invoked and given the bucket through the target. */
const workersDeps = (target: () => Promise<RunTarget>, settings: Settings, emit: Emit) => ({
  invokeWorker: async (request: InvokeRequest) => (await target()).invoke(request),
  deployWorkers: async (n: number) => deployWorkers(await target(), settings, n, emit),
  storage: async () => workersStorage(await target(), settings, emit),
})

/** A lambda memory sweep runs through a version per size ($LATEST untouched), as faas tune does. */
function throughVersions(
  options: {protocol?: string; memorySizes?: number[]; coldStarts?: number},
  workers: boolean,
  target: () => Promise<RunTarget>,
  invoke: Invoke,
  emit: Emit,
) {
  if (options.protocol !== 'lambda' || !options.memorySizes || options.coldStarts || workers) return undefined
  return sweepThroughVersions(target, invoke, options.memorySizes, emit)
}
