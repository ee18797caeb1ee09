import {Args, Flags} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {targetFlag} from '../cli/flags.js'
import {UserError} from '../core/errors.js'
import {readFileSync} from 'node:fs'
import {text} from 'node:stream/consumers'

import {
  DEFAULT_ENVMAP,
  EPHEMERAL_STORAGE_RANGE,
  MEMORY_RANGE,
  TIMEOUT_RANGE,
  parseEnvMap,
  parseSecretEnvMap,
} from '../core/function-config.js'
import {parsePolicyList} from '../core/policies.js'
import {loadSettings, type Settings} from '../core/settings.js'
import {deploy, toArchitecture} from '../services/deploy.js'
import {deployTemplate, parseParameterOverrides} from '../services/template-deploy.js'
import {createTarget} from '../targets/index.js'
import type {DeployedApi, DeployOutcome} from '../targets/target.js'

export default class Deploy extends FaasCommand {
  static override summary = 'Create or update functions from their images: one (--function_name) or a whole benchmark.'
  static override description =
    'Each function gets a role <function>-role trusted by Lambda, holding the named policy bundles and ' +
    'AWSLambdaBasicExecutionRole. Existing roles, policies and functions are read first: only what differs is ' +
    'written, and nothing when nothing differs. Functions of a benchmark deploy concurrently and are wired together ' +
    "(e.g. the driver's MAPPER_FUNCTION)."

  static override examples = [
    '<%= config.bin %> deploy map-reduce --target aws',
    `<%= config.bin %> deploy --repo_name newfunc --repo_tag latest --function_name NewFuncLambda --policies ` +
      `access_s3,invoke_function --envmap '{"KEY1":"VAL1"}'`,
    '<%= config.bin %> deploy -n hello -f Hello --url none --cors-origin http://localhost:3000',
    '<%= config.bin %> deploy --target local --template template.yaml',
    `pass show api-key | jq -R '{API_KEY: .}' | <%= config.bin %> deploy -n newfunc -f NewFuncLambda --envmap-file -`,
  ]

  // ignoreStdin: oclif would otherwise take piped input (an --envmap-file - map of secrets) as the benchmark name.
  static override args = {
    benchmark: Args.string({description: 'Benchmark to deploy all (or --function) functions of.', ignoreStdin: true}),
  }
  static override flags = {
    target: targetFlag(),
    repo_name: Flags.string({char: 'n', aliases: ['repo-name'], description: 'Image repository (seed form).'}),
    repo_tag: Flags.string({char: 't', aliases: ['repo-tag', 'tag'], description: 'Image tag.', default: 'latest'}),
    function_name: Flags.string({
      char: 'f',
      aliases: ['function-name'],
      description: 'Function name (seed form).',
      dependsOn: ['repo_name'],
    }),
    function: Flags.string({description: 'With a benchmark: only this function (repeatable).', multiple: true}),
    policies: Flags.string({
      char: 'p',
      description: 'Comma-separated policy bundles: access_s3, invoke_function, or your own.',
    }),
    'policies-file': Flags.string({description: 'JSON file of your own policy bundles (env FAAS_POLICIES_FILE).'}),
    envmap: Flags.string({char: 'e', description: 'Environment as a JSON object of strings.', default: DEFAULT_ENVMAP}),
    'envmap-file': Flags.string({
      description:
        'Environment from a JSON file, or - for standard input: for values that are secrets (they stay out of the ' +
        'command line).',
    }),
    role: Flags.string({description: 'Role name instead of <function>-role.'}),
    memory: Flags.integer({description: "Memory in MB, 128–10240 (default 1024 or the manifest's).", ...MEMORY_RANGE}),
    timeout: Flags.integer({
      description: "Timeout in seconds, 1–900 (default 120 or the manifest's).",
      ...TIMEOUT_RANGE,
    }),
    handler: Flags.string({description: 'Handler (module.function) set as the image command (ImageConfig).'}),
    'ephemeral-storage': Flags.integer({
      description: "Size of /tmp in MB, 512–10240 (EphemeralStorage; default 512 or the manifest's).",
      ...EPHEMERAL_STORAGE_RANGE,
    }),
    'log-format': Flags.string({
      description: "Log format (LoggingConfig.LogFormat; default Text or the manifest's).",
      options: ['Text', 'JSON'],
    }),
    'reserved-concurrency': Flags.integer({description: 'Reserved concurrency of each function.', min: 0}),
    arch: Flags.string({
      description: 'Architecture (default from FAAS_PLATFORM, linux/arm64).',
      options: ['arm64', 'x86_64', 'amd64'],
    }),
    registry: Flags.string({description: "Registry host instead of the account's ECR (env FAAS_REGISTRY)."}),
    concurrency: Flags.integer({description: 'Functions deployed at once.', default: 4, min: 1, max: 64}),
    url: Flags.string({
      description:
        'Give each function a Function URL: none (anyone may call it; faas adds the two public permissions) or iam ' +
        '(SigV4-signed callers only). Prints the URL.',
    }),
    template: Flags.string({
      description:
        'An AWS SAM template: deploy its PackageType Image functions, their FunctionUrlConfig and Api/HttpApi routes.',
    }),
    'parameter-overrides': Flags.string({
      description: "With --template: a parameter's value, Key=Value (repeatable), over its Default.",
      multiple: true,
    }),
    'cors-origin': Flags.string({
      description: 'With --url: an origin whose pages may call the URL (Cors.AllowOrigins; repeatable; * for any).',
      multiple: true,
    }),
  }

  async #env(envmap: string, file: string | undefined): Promise<Record<string, string>> {
    if (file === undefined) return parseEnvMap(envmap)
    if (envmap !== DEFAULT_ENVMAP)
      throw new UserError('Both --envmap and --envmap-file were given.', {
        code: 'BAD_ENV',
        fix: 'Put every variable in the file and leave out --envmap.',
      })
    const source = file === '-' ? 'The environment map on standard input' : `The environment map file ${file}`
    let content: string
    try {
      content = file === '-' ? await text(process.stdin) : readFileSync(file, 'utf8')
    } catch (error) {
      throw new UserError(`${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {
        code: 'BAD_ENV',
        fix: 'Give a readable JSON file, or - and pipe the JSON in.',
      })
    }
    return parseSecretEnvMap(content, source)
  }

  async run() {
    const {args, flags} = await this.parse(Deploy)
    if (args.benchmark && flags['envmap-file'])
      throw new UserError('--envmap-file applies to a single function (--repo_name and --function_name).', {
        code: 'BAD_ENV',
        fix: "Give a benchmark's variables in its manifest, or deploy the function on its own.",
      })
    const settings = loadSettings()
    if (flags.template) return this.#template(flags.template, args.benchmark ?? flags.repo_name, flags, settings)
    if (!args.benchmark && !(flags.repo_name && flags.function_name)) {
      throw new UserError('Nothing to deploy.', {
        code: 'NOTHING_TO_DEPLOY',
        fix: 'Name a benchmark (faas deploy map-reduce), or give --repo_name and --function_name.',
      })
    }
    const target = await createTarget(flags.target, settings)
    const common = {
      tag: flags.repo_tag,
      registry: flags.registry,
      role: flags.role,
      memoryMb: flags.memory,
      timeoutS: flags.timeout,
      handler: flags.handler,
      reservedConcurrency: flags['reserved-concurrency'],
      ephemeralStorageMb: flags['ephemeral-storage'],
      logFormat: flags['log-format'] as 'Text' | 'JSON' | undefined,
      policiesFile: flags['policies-file'],
      concurrency: flags.concurrency,
      architecture: flags.arch ? toArchitecture(flags.arch) : undefined,
      url: flags.url,
      corsOrigins: flags['cors-origin'],
    }
    const request = args.benchmark
      ? {...common, benchmark: args.benchmark, functions: flags.function}
      : {
          ...common,
          repository: flags.repo_name!,
          functionName: flags.function_name!,
          policies: parsePolicyList(flags.policies),
          env: await this.#env(flags.envmap, flags['envmap-file']),
        }
    const result = await deploy(target, settings, request, this.emit)
    this.#print(result)
    return {target: target.kind, ...result}
  }

  async #template(
    template: string,
    other: string | undefined,
    flags: {target: string; concurrency: number; 'parameter-overrides'?: string[]},
    settings: Settings,
  ) {
    if (other)
      throw new UserError(`--template deploys the template's functions; ${other} was given as well.`, {
        code: 'BAD_FLAG',
        fix: 'Deploy the template on its own, and the benchmark or function in another command.',
      })
    const target = await createTarget(flags.target as 'aws' | 'local', settings)
    const parameters = parseParameterOverrides(flags['parameter-overrides'])
    const request = {template, concurrency: flags.concurrency, parameters}
    const result = await deployTemplate(target, settings, request, this.emit)
    this.#print(result)
    return {target: target.kind, ...result}
  }

  #print(result: {functions: DeployOutcome[]; api?: DeployedApi; tables?: Array<{name: string; action: string}>}) {
    for (const t of result.tables ?? []) this.log(`table ${t.name}\t${t.action}`)
    for (const f of result.functions) {
      this.log(`${f.name}\t${f.action}${f.changed.length > 0 ? ` (${f.changed.join(', ')})` : ''}\t${f.arn ?? ''}`)
      if (f.url) this.log(`  URL ${f.url}`)
    }
    if (result.api) {
      this.log(`API ${result.api.url}`)
      for (const r of result.api.routes) this.log(`  ${r.routeKey}\t${r.function}\t(payload ${r.payloadFormat})`)
    }
  }
}
