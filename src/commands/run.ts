import {Args, Flags} from '@oclif/core'

import {checkPayload} from '../bench/inputs.js'
import {FaasCommand} from '../cli/faas-command.js'
import {numberFlag, targetFlag} from '../cli/flags.js'
import {parsePlatform} from '../core/platform.js'
import {loadSettings} from '../core/settings.js'
import {RUN_LIMITS} from '../run/map-reduce.js'
import {runBenchmark} from '../run/run.js'

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

  static override args = {benchmark: Args.string({description: 'Benchmark to run.', required: true})}

  static override flags = {
    target: targetFlag(),
    'input-mb': numberFlag({
      description: 'Size of the generated input, in MiB.',
      default: 4,
      min: 0,
      aboveMin: true,
      max: RUN_LIMITS['input-mb'],
      example: 4,
    }),
    shards: Flags.integer({description: 'Number of input objects.', default: 16, min: 1, max: RUN_LIMITS.shards}),
    seed: Flags.integer({description: 'Seed of the generated input.', default: 1}),
    payload: Flags.string({
      description: 'Event (JSON) for payload-driven benchmarks (aes, chameleon…) instead of the manifest\'s "payload".',
    }),
    mappers: Flags.integer({description: 'Number of mappers.', default: 4, min: 1, max: RUN_LIMITS.mappers}),
    reducers: Flags.integer({
      description: 'Number of reducers (a power of two, at most --mappers).',
      default: 2,
      min: 1,
      max: RUN_LIMITS.reducers,
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
        inputMb: flags['input-mb'],
        shards: flags.shards,
        seed: flags.seed,
        mappers: flags.mappers,
        reducers: flags.reducers,
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
