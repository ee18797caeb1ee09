import {readFile} from 'node:fs/promises'
import {basename, dirname, resolve} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {parseSamTemplate, type SamTemplate} from '../core/sam-template.js'
import type {Settings} from '../core/settings.js'
import type {DeployedApi, DeployOutcome, FunctionSpec, Target} from '../targets/target.js'
import {deploySpecs, serveApi} from './deploy.js'

export interface TemplateDeployResult {
  template: string
  functions: DeployOutcome[]
  api?: DeployedApi
  /** What the template holds that faas does not emulate (listed once, also as a warning). */
  ignored: string[]
  wallMs: number
}

/** A SAM template read and checked whole; its stack name is its folder's (AWS::StackName, the API's name). */
export async function readTemplate(
  given: string,
  settings: Settings,
  parameters?: Record<string, string>,
): Promise<{file: string; stackName: string; template: SamTemplate}> {
  const file = resolve(given)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UserError(`The template ${file} cannot be read (${(error as NodeJS.ErrnoException).code}).`, {
      code: 'BAD_TEMPLATE',
      fix: 'Give the path of your SAM template, e.g. --template template.yaml.',
    })
  }
  const stackName = basename(dirname(file)).replace(/[^A-Za-z0-9-]/g, '-') || 'sam-app'
  const template = parseSamTemplate(text, file, {
    region: settings.region ?? 'us-east-1',
    accountId: settings.accountId ?? '000000000000',
    stackName,
    parameters,
  })
  return {file, stackName, template}
}

/** What `faas destroy --template` removes: the template's functions (their URLs with them) and its API. */
export async function templateDestroyPlan(given: string, settings: Settings, parameters?: Record<string, string>) {
  const {stackName, template} = await readTemplate(given, settings, parameters)
  const functions = template.functions.map((f) => f.name)
  return {
    functions,
    repositories: [] as string[],
    tables: [] as string[],
    queues: [] as string[],
    ...(template.api ? {api: stackName} : {}),
  }
}

/**
 * Deploys an AWS SAM template's image functions, their URLs and their Api / HttpApi routes (one API named after
 * the template's folder, served from the root as `sam local start-api` serves it). The template is read and
 * checked whole before anything is deployed.
 */
export async function deployTemplate(
  target: Target,
  settings: Settings,
  request: {template: string; concurrency?: number; parameters?: Record<string, string>},
  emit: Emit,
): Promise<TemplateDeployResult> {
  const t0 = performance.now()
  const {file, stackName, template} = await readTemplate(request.template, settings, request.parameters)
  if (template.ignored.length > 0)
    emit({
      kind: 'warn',
      subject: 'template',
      message: `faas does not emulate, and leaves out: ${template.ignored.join(', ')}`,
    })
  const specs: FunctionSpec[] = template.functions.map((f) => ({
    name: f.name,
    image: {uri: f.imageUri, architecture: f.architecture},
    handler: f.handler,
    memoryMb: f.memoryMb,
    timeoutS: f.timeoutS,
    env: f.env,
    policies: [],
    ...(f.url ? {url: f.url} : {}),
  }))
  const functions = await deploySpecs(target, specs, request.concurrency ?? 4, emit)
  const api = template.api ? await serveApi(target, stackName, template.api, emit) : undefined
  return {
    template: file,
    functions,
    ...(api ? {api} : {}),
    ignored: template.ignored,
    wallMs: performance.now() - t0,
  }
}

/** `--parameter-overrides Key=Value …` as a map; a pair without `=` is refused. */
export function parseParameterOverrides(pairs: string[] = []): Record<string, string> {
  const parameters: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq < 1)
      throw new UserError(`--parameter-overrides ${pair} is not Key=Value.`, {
        code: 'BAD_FLAG',
        fix: 'Give each as Key=Value, e.g. --parameter-overrides ImageUri=hello:latest.',
      })
    parameters[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return parameters
}
