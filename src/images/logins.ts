import {join} from 'node:path'

import {readJsonFile, updateJsonFile, type JsonFileInfo} from '../core/files.js'
import {faasHome} from '../core/paths.js'

/** A registry login kept between runs, in a 0600 file (like ~/.docker/config.json, but only faas reads it). */
export interface Login {
  registry: string
  username: string
  password: string
  /** ISO time; ECR tokens last 12 hours. */
  expiresAt?: string
}

export const loginsFile = () => join(faasHome(), 'registries.json')

const info = (): JsonFileInfo => ({
  what: "faas's saved registry logins",
  fix: `Repair the JSON by hand, or remove ${loginsFile()} and log in again (faas login) to each registry.`,
})

/** The stored login for a registry, unless it expires within five minutes. */
export async function findLogin(registry: string): Promise<Login | undefined> {
  const login = ((await readJsonFile<Record<string, Login>>(loginsFile(), info())) ?? {})[registry]
  if (!login) return undefined
  if (login.expiresAt && Date.parse(login.expiresAt) < Date.now() + 5 * 60_000) return undefined
  return login
}

/** Adds or replaces one registry's login; concurrent `faas login`s each keep theirs. */
export async function saveLogin(login: Login): Promise<void> {
  await updateJsonFile<Record<string, Login>>(loginsFile(), info(), (all) => ({...all, [login.registry]: login}))
}
