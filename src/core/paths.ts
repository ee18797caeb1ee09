import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The faas checkout (or installed package) root: src/core or dist/core, two levels up. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const projectPath = (...parts: string[]): string => join(PROJECT_ROOT, ...parts)

/** Where benchmarks live: FAAS_BENCHMARKS_DIR for authors keeping their own, else the bundled folder. */
export const benchmarksDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.FAAS_BENCHMARKS_DIR ? resolve(env.FAAS_BENCHMARKS_DIR) : projectPath('benchmarks')

/** faas's own state (logins, local service, run records): FAAS_HOME, else ~/.faas. */
export const faasHome = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.FAAS_HOME ?? join(homedir(), '.faas'))
