import {Args, Flags} from '@oclif/core'

import {checkPayload} from '../bench/inputs.js'
import {FaasCommand} from '../cli/faas-command.js'
import {targetFlag} from '../cli/flags.js'
import {parsePlatform} from '../core/platform.js'
import {loadSettings} from '../core/settings.js'
import {runBenchmark} from '../run/run.js'

/** The flags passed to the checker as run parameters (by flag name). */
const RUN_FLAGS = ['input-mb', 'shards', 'mappers', 'reducers'] as const

export default class Run extends FaasCommand {
  static override summary = 'Build, deploy and run a benchmark end to end, and check its answer.'
  static override description =
    "By default on the local target (faas's local Lambda service and a local S3 store, only Docker needed); " +
    '--target aws runs the same images on AWS Lambda and S3. Deploys skip what is already in place. Prints ' +
    'per-phase times and writes a run record (JSON) with image digests, configuration and per-invocation figures.'

  static override examples = [
    '<%= config.bin %> run map-reduce --base-image local',
    '<%= config.bin %> run map-reduce --input-mb 16 --mappers 4 --reducers 2',
    '<%= config.bin %> run map-reduce --target aws',
    `<%= config.bin %> run chameleon --payload '{"num_of_rows": 20, "num_of_cols": 20}'`,
    '<%= config.bin %> run cnn_serving --platform linux/amd64 --base-image local',
  ]

  static override args = {
    benchmark: Args.string({description: 'Benchmark to run: its name, or its folder (./mine).', required: true}),
  }

  static override flags = {
    target: targetFlag(),
    // Run flags: handed to the benchmark's checker as given, which applies its defaults and limits (its README).
    'input-mb': Flags.string({description: 'Size of the generated input, in MiB (checker default: 4).'}),
    shards: Flags.string({description: 'Number of input objects (checker default: 16).'}),
    seed: Flags.integer({description: 'Seed of the generated input.', default: 1}),
    payload: Flags.string({
      description: 'Event (JSON) for the entry function (and its checker) instead of the manifest\'s "payload".',
    }),
    mappers: Flags.string({description: 'Number of mappers (checker default: 4).'}),
    reducers: Flags.string({
      description: 'Number of reducers (checker default: 2; a power of two, at most --mappers).',
    }),
    bucket: Flags.string({description: 'S3 bucket for input and output (default: faas-runs[-<account>-<region>]).'}),
    tag: Flags.string({description: 'Image tag.', default: 'latest'}),
    platform: Flags.string({description: 'linux/arm64 or linux/amd64 (env FAAS_PLATFORM).'}),
    'base-image': Flags.string({description: '"local" for the offline base, or an image (env FAAS_BASE_IMAGE).'}),
    registry: Flags.string({description: "Registry instead of the account's ECR (aws target)."}),
    record: Flags.string({description: 'Path of the run record (default ~/.faas/runs/<run id>.json).'}),
  }

  async run() {
    const {args, flags} = await this.parse(Run)
    const settings = loadSettings()
    const record = await runBenchmark(
      settings,
      {
        benchmark: args.benchmark,
        target: flags.target,
        seed: flags.seed,
        params: Object.fromEntries(
          RUN_FLAGS.filter((flag) => flags[flag] !== undefined).map((flag) => [flag, flags[flag]]),
        ),
        tag: flags.tag,
        platform: flags.platform ? parsePlatform(flags.platform) : settings.platform,
        baseImage: flags['base-image'] ?? settings.baseImage,
        registry: flags.registry,
        bucket: flags.bucket,
        recordPath: flags.record,
        payload: flags.payload === undefined ? undefined : JSON.parse(checkPayload(flags.payload)),
      },
      this.emit,
    )
    const verdict = record.words
      ? `correct — ${record.words.total} words, ${record.words.distinct} distinct`
      : record.verified
        ? `correct — ${record.verified}`
        : `answered ${JSON.stringify(record.output).slice(0, 200)}`
    this.log(`${record.benchmark} on ${record.target}: ${verdict}`)
    this.log(
      `phases (ms): ${Object.entries(record.phasesMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    )
    const bytes = record.bytes
      ? `, S3 bytes read/written by functions: ${record.bytes.functionsRead}/${record.bytes.functionsWritten}`
      : ''
    this.log(`invocations: ${record.invocations.length}, cold starts: ${record.coldStarts}${bytes}`)
    if (record.emulated)
      this.log(
        'emulated: these functions ran under qemu emulation (image architecture ≠ host); their timings are not ' +
          'comparable with native ones or with Lambda',
      )
    this.log(`record: ${record.recordPath}`)
    return record
  }
}
