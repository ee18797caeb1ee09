import {writeFile} from 'node:fs/promises'

import {Args, Flags} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {portFlag, sharedFlags} from '../cli/flags.js'
import {UserError} from '../core/errors.js'
import {loadBenchmark, selectFunctions} from '../core/manifest.js'
import {parsePlatform} from '../core/platform.js'
import {loadSettings} from '../core/settings.js'
import {serveBenchmarks, stopServed} from '../services/serve.js'
import {createServeHost} from '../targets/index.js'

export default class Serve extends FaasCommand {
  static override summary =
    'Run benchmarks as vSwarm-style gRPC or Knative-style HTTP servers on 127.0.0.1 and print their endpoints file.'
  static override description =
    "Builds each benchmark's docker/Dockerfile (the server around the same handler; base image faas's offline one " +
    'unless --base-image says otherwise), runs one plain container per function (the entry function unless ' +
    '--function) with its ports published on 127.0.0.1 only, waits until it answers, and prints a vHive endpoints ' +
    'file for `faas bench --protocol grpc|http`. A second serve reuses running containers. --stop removes them.'

  static override examples = [
    '<%= config.bin %> serve chameleon --protocol grpc > endpoints-grpc.json',
    '<%= config.bin %> serve chameleon cnn_serving --protocol http --out endpoints-http.json',
    '<%= config.bin %> serve aes --port 9000 --platform linux/amd64',
    '<%= config.bin %> serve --stop',
  ]

  static override strict = false
  static override args = {
    benchmark: Args.string({description: 'Benchmark folder name(s) under benchmarks/ (with --stop: only these).'}),
  }

  static override flags = {
    function: sharedFlags.function,
    tag: sharedFlags.tag,
    protocol: Flags.string({
      description: 'Protocol of the endpoints file (default grpc when served, else http).',
      options: ['grpc', 'http'],
    }),
    port: portFlag('Host port of the first server (next ones count up); default: any free port.'),
    platform: Flags.string({description: 'linux/arm64 or linux/amd64 (env FAAS_PLATFORM).'}),
    'base-image': Flags.string({
      description: 'BASE_IMAGE for docker/Dockerfile: "local" (faas\'s offline base) or an image.',
      default: 'local',
    }),
    wait: Flags.integer({description: 'Seconds to wait for each server to answer.', default: 300, min: 1}),
    out: Flags.string({char: 'o', description: 'Also write the endpoints file here.'}),
    stop: Flags.boolean({description: 'Remove the servers (of the named benchmarks, or all) instead.', default: false}),
  }

  async run() {
    const {argv, flags} = await this.parse(Serve)
    const names = argv as string[]
    const host = await createServeHost()
    if (flags.stop) {
      const removed = await stopServed(host, names, this.emit)
      // Each removal is reported as it happens (progress events); only "nothing to do" needs saying here.
      if (!this.jsonEnabled() && removed.length === 0) this.log('No servers to remove.')
      return {removed}
    }
    if (names.length === 0)
      throw new UserError('No benchmark to serve.', {
        code: 'NO_BENCHMARK',
        fix: 'Name one or more, e.g. `faas serve chameleon --protocol grpc`.',
      })
    if (flags.function && names.length > 1)
      throw new UserError('--function picks functions of one benchmark, but several were named.', {
        code: 'BAD_FLAG',
        fix: 'Serve one benchmark per command when choosing functions.',
      })
    const settings = loadSettings()
    const requests = []
    for (const name of names) {
      const manifest = await loadBenchmark(name)
      requests.push({
        manifest,
        functions: flags.function
          ? selectFunctions(manifest, flags.function)
          : selectFunctions(manifest, [manifest.entry]),
      })
    }
    const result = await serveBenchmarks(
      host,
      requests,
      {
        protocol: flags.protocol as 'grpc' | 'http' | undefined,
        port: flags.port,
        platform: flags.platform ? parsePlatform(flags.platform) : settings.platform,
        tag: flags.tag,
        baseImage: flags['base-image'],
        waitS: flags.wait,
        region: settings.region ?? 'us-east-1',
      },
      this.emit,
    )
    const text = JSON.stringify(result.endpoints, null, 2) + '\n'
    if (flags.out) await writeFile(flags.out, text)
    if (!this.jsonEnabled()) process.stdout.write(text)
    return {...result, ...(flags.out ? {file: flags.out} : {})}
  }
}
