import {createInterface} from 'node:readline/promises'

import {Args, Flags} from '@oclif/core'

import {FaasCommand} from '../cli/faas-command.js'
import {targetFlag} from '../cli/flags.js'
import {UserError} from '../core/errors.js'
import {loadSettings} from '../core/settings.js'
import {destroy, destroyPlan} from '../services/deploy.js'
import {parseParameterOverrides, templateDestroyPlan} from '../services/template-deploy.js'
import {defaultRunBucket, deleteBucket, s3For} from '../storage/s3.js'
import {createTarget} from '../targets/index.js'

export default class Destroy extends FaasCommand {
  static override summary = 'Delete what faas made: functions, then their roles; repositories only with --repositories.'
  static override description =
    'Roles are deleted only when faas created them (tagged managed-by=faas), their policies detached first. Asks ' +
    "before deleting unless --yes. A benchmark's DynamoDB tables are deleted only with --tables, the queues faas " +
    'made for it only with --queues. Running it twice is harmless.'
  static override examples = [
    '<%= config.bin %> destroy map-reduce --target aws --yes',
    '<%= config.bin %> destroy --function_name NewFuncLambda --target aws',
  ]

  static override args = {benchmark: Args.string({description: 'Benchmark whose functions to delete.'})}
  static override flags = {
    target: targetFlag(),
    function_name: Flags.string({
      char: 'f',
      aliases: ['function-name'],
      description: 'A function to delete (repeatable).',
      multiple: true,
    }),
    function: Flags.string({description: 'With a benchmark: only this function (repeatable).', multiple: true}),
    'keep-roles': Flags.boolean({description: 'Leave the roles.', default: false}),
    repositories: Flags.boolean({description: "Also delete the benchmark's image repositories.", default: false}),
    'run-bucket': Flags.boolean({
      description: 'Also delete the S3 bucket `faas run` uses (faas-runs-<account>-<region>) with its objects.',
      default: false,
    }),
    bucket: Flags.string({description: 'Also delete this S3 bucket with its objects (repeatable).', multiple: true}),
    template: Flags.string({description: 'An AWS SAM template: delete its functions (with their URLs) and its API.'}),
    'parameter-overrides': Flags.string({
      description: "With --template: a parameter's value, Key=Value (repeatable), as it was deployed.",
      multiple: true,
    }),
    tables: Flags.boolean({
      description: "Also delete the benchmark's DynamoDB tables, with their data (never done without this flag).",
      default: false,
    }),
    queues: Flags.boolean({
      description:
        'Also delete the queues faas made for the benchmark\'s event sources ({"queue": NAME}), with their messages.',
      default: false,
    }),
    yes: Flags.boolean({char: 'y', description: 'Do not ask.', default: false}),
  }

  async run() {
    const {args, flags} = await this.parse(Destroy)
    const settings = loadSettings()
    const kind = flags.target
    const buckets = [...(flags.bucket ?? []), ...(flags['run-bucket'] ? [await defaultRunBucket(kind, settings)] : [])]
    if (flags.template && (args.benchmark || flags.function_name))
      throw new UserError(
        '--template deletes what the template deploys; a benchmark or --function_name was given too.',
        {
          code: 'BAD_FLAG',
          fix: 'Destroy the template on its own, and the rest in another command.',
        },
      )
    const plan = flags.template
      ? await templateDestroyPlan(flags.template, settings, parseParameterOverrides(flags['parameter-overrides']))
      : await destroyPlan({
          benchmark: args.benchmark,
          functions: flags.function,
          functionNames: flags.function_name,
          buckets,
          tables: flags.tables,
          queues: flags.queues,
        })
    const target = await createTarget(kind, settings)
    const repositories = flags.repositories && plan.repositories.length > 0 ? plan.repositories : []
    const what =
      `${plan.functions.join(', ')}${flags['keep-roles'] ? '' : ' and their roles'}` +
      `${repositories.length > 0 ? ` and repositories ${repositories.join(', ')}` : ''}` +
      `${buckets.length > 0 ? ` and buckets ${buckets.join(', ')}` : ''}` +
      `${plan.tables.length > 0 ? ` and tables ${plan.tables.join(', ')} with their data` : ''}` +
      `${plan.queues.length > 0 ? ` and queues ${plan.queues.join(', ')} with their messages` : ''}`
    if (!flags.yes) {
      if (!process.stdin.isTTY)
        throw new UserError(`Refusing to delete ${what} on ${target.kind} without confirmation.`, {
          code: 'NEEDS_CONFIRMATION',
          fix: 'Add --yes.',
        })
      const rl = createInterface({input: process.stdin, output: process.stderr})
      const answer = await rl.question(`Delete ${what} on ${target.kind}? [y/N] `)
      rl.close()
      if (!/^y(es)?$/i.test(answer.trim())) return {deleted: [], cancelled: true}
    }
    const outcomes = await destroy(
      target,
      plan,
      {roles: !flags['keep-roles'], repositories: flags.repositories},
      this.emit,
    )
    if (plan.tables.length > 0) outcomes.push(...(await target.destroyTables(plan.tables, this.emit)))
    if (plan.queues.length > 0) outcomes.push(...(await target.destroyQueues(plan.queues, this.emit)))
    for (const bucket of buckets)
      outcomes.push({name: bucket, kind: 'bucket', action: await deleteBucket(s3For(kind, settings), bucket)})
    for (const o of outcomes) this.log(`${o.kind}\t${o.name}\t${o.action}`)
    return {target: target.kind, outcomes}
  }
}
