import {execa} from 'execa'
import {cpSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {PROJECT_ROOT} from '../../src/core/paths.js'

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the built `faas` binary as a user would (dist/ must be compiled: `npm run build`). */
export async function faas(
  args: string[],
  options: {env?: Record<string, string | undefined>; input?: string; cwd?: string} = {},
): Promise<CliResult> {
  const result = await execa('node', [join(PROJECT_ROOT, 'bin', 'run.js'), ...args], {
    reject: false,
    cwd: options.cwd,
    env: {FORCE_COLOR: '0', ...options.env},
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
  })
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)}
}

/** A faas command's --json output, parsed. */
export async function faasJson<T = any>(
  args: string[],
  options: Parameters<typeof faas>[1] = {},
): Promise<{result: T} & CliResult> {
  const run = await faas([...args, '--json'], options)
  let result: T
  try {
    result = JSON.parse(run.stdout)
  } catch {
    throw new Error(
      `faas ${args.join(' ')} --json printed no JSON (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`,
    )
  }
  return {result, ...run}
}

/** A scratch benchmarks folder, optionally seeded with a copy of a bundled benchmark. */
export function scratchBenchmarks(copy: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'faas-benchmarks-'))
  for (const name of copy) cpSync(join(PROJECT_ROOT, 'benchmarks', name), join(dir, name), {recursive: true})
  return dir
}

export const write = (path: string, text: string) => writeFileSync(path, text)

/** A user error as faas prints it: one "Error: …" paragraph and no stack trace. */
export function assertUserError(run: CliResult, pattern: RegExp): void {
  if (run.exitCode === 0) throw new Error(`expected a failure, got exit 0:\n${run.stdout}`)
  if (!pattern.test(run.stderr)) throw new Error(`stderr does not match ${pattern}:\n${run.stderr}`)
  if (/\n\s+at .+:\d+:\d+/.test(run.stderr)) throw new Error(`stderr has a stack trace:\n${run.stderr}`)
}

/** The stack's endpoints (see scripts/stack.sh env). */
export const stack = {
  registry: process.env.FAAS_TEST_REGISTRY ?? '127.0.0.1:5000',
  authRegistry: process.env.FAAS_TEST_AUTH_REGISTRY ?? '127.0.0.1:5001',
  authFile: process.env.FAAS_TEST_AUTH_FILE ?? '/var/lib/faas-stack/auth-registry.credentials',
  awsEndpoint: process.env.FAAS_TEST_AWS_ENDPOINT ?? 'http://127.0.0.1:5050',
}

/** Env for talking to the moto emulator with throwaway credentials. */
export const motoEnv = (): Record<string, string> => ({
  AWS_ENDPOINT_URL: stack.awsEndpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_ACCOUNT_ID: '123456789012',
})
