import {Args, Flags} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {sharedFlags} from '../cli/flags.js'
import {loadBenchmark, selectFunctions} from '../core/manifest.js'
import {parsePlatform} from '../core/platform.js'
import {loadSettings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {buildBenchmark} from '../images/build.js'
import {knownRegistry} from '../images/registry.js'

export default class Build extends FaasCommand {
  static override summary = "Build a benchmark's function images from its docker/Dockerfile.Lambda."
  static override description =
    'Builds every function (or those named with --function) concurrently through the Docker Engine API with ' +
    'BuildKit, for linux/arm64 unless --platform says otherwise. Images are tagged <benchmark>-<function>:<tag>, ' +
    'and also with their registry URI when the registry is known (--registry, FAAS_REGISTRY, or AWS_ACCOUNT_ID + ' +
    'AWS_REGION for ECR).'

  static override examples = [
    '<%= config.bin %> build map-reduce',
    '<%= config.bin %> build map-reduce --function driver --platform linux/amd64 --base-image local',
  ]

  static override args = {
    benchmark: Args.string({description: 'Benchmark folder name under benchmarks/.', required: true}),
  }

  static override flags = {
    ...sharedFlags,
    platform: Flags.string({description: 'linux/arm64 or linux/amd64 (env FAAS_PLATFORM).'}),
    'no-cache': Flags.boolean({description: 'Ignore the build cache.', default: false}),
    'base-image': Flags.string({
      description:
        'BASE_IMAGE for the Dockerfile: "local" for the offline base faas makes, or an image (env FAAS_BASE_IMAGE). ' +
        'Default: the AWS base image.',
    }),
  }

  async run() {
    const {args, flags} = await this.parse(Build)
    const settings = loadSettings()
    const manifest = await loadBenchmark(args.benchmark)
    const images = await buildBenchmark(
      new DockerEngine(),
      manifest,
      {
        functions: selectFunctions(manifest, flags.function),
        platform: flags.platform ? parsePlatform(flags.platform) : settings.platform,
        tag: flags.tag,
        baseImage: flags['base-image'] ?? settings.baseImage,
        registry: knownRegistry(settings, flags.registry),
        noCache: flags['no-cache'],
      },
      this.emit,
    )
    for (const i of images)
      this.log(
        `${i.function}\t${i.uri ?? i.image}\t${i.imageId.slice(7, 19)}\t${i.architecture}\t` +
          `${(i.sizeBytes / 1e6).toFixed(0)} MB`,
      )
    return {benchmark: manifest.name, images}
  }
}
