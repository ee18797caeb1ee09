import {Args} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {sharedFlags} from '../cli/flags.js'
import {loadBenchmark, selectFunctions} from '../core/manifest.js'
import {loadSettings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {pushBenchmark} from '../images/push.js'
import {resolveRegistry} from '../images/registry.js'

export default class Push extends FaasCommand {
  static override summary = "Push a benchmark's built images to ECR (or --registry)."
  static override description =
    'Creates missing ECR repositories, logs in once (through the Engine API; the password never appears on a ' +
    'command line), skips images the registry already holds, and prints each digest.'

  static override examples = [
    '<%= config.bin %> push map-reduce',
    '<%= config.bin %> push map-reduce --registry 127.0.0.1:5000',
  ]

  static override args = {
    benchmark: Args.string({description: 'Benchmark folder name under benchmarks/.', required: true}),
  }
  static override flags = sharedFlags

  async run() {
    const {args, flags} = await this.parse(Push)
    const settings = loadSettings()
    const manifest = await loadBenchmark(args.benchmark)
    const functions = selectFunctions(manifest, flags.function)
    const registry = await resolveRegistry(settings, flags.registry)
    const images = await pushBenchmark(
      new DockerEngine(),
      settings,
      manifest,
      {functions, tag: flags.tag, registry},
      this.emit,
    )
    for (const i of images)
      this.log(
        `${i.function}\t${i.uri}\t${i.digest}\t` +
          `${i.skipped ? 'already there' : `${(i.bytesPushed / 1e6).toFixed(1)} MB sent`}`,
      )
    return {benchmark: manifest.name, registry, images}
  }
}
