import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {faasHome} from '../core/paths.js'

/** A registry login kept between runs, in a 0600 file (like ~/.docker/config.json, but only faas reads it). */
export interface Login {
  registry: string
  username: string
  password: string
  /** ISO time; ECR tokens last 12 hours. */
  expiresAt?: string
}

const file = () => join(faasHome(), 'registries.json')

async function readAll(): Promise<Record<string, Login>> {
  try {
    return JSON.parse(await readFile(file(), 'utf8'))
  } catch {
    return {}
  }
}

/** The stored login for a registry, unless it expires within five minutes. */
export async function findLogin(registry: string): Promise<Login | undefined> {
  const login = (await readAll())[registry]
  if (!login) return undefined
  if (login.expiresAt && Date.parse(login.expiresAt) < Date.now() + 5 * 60_000) return undefined
  return login
}

export async function saveLogin(login: Login): Promise<void> {
  const all = await readAll()
  all[login.registry] = login
  await mkdir(dirname(file()), {recursive: true, mode: 0o700})
  await writeFile(file(), JSON.stringify(all, null, 2), {mode: 0o600})
  await chmod(file(), 0o600)
}
