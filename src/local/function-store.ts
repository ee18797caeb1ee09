import {createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID} from 'node:crypto'

import type {Emit} from '../core/events.js'
import {readJsonFileSync, writeJsonFileSync} from '../core/files.js'
import type {LocalFunction} from './types.js'

/**
 * The functions a service knows, with their published versions and aliases, kept in
 * $FAAS_HOME/local/functions.json so a restarted service on the same FAAS_HOME still knows them
 * (files written before versions existed load as functions without versions). Their variables may
 * be secrets: they are kept encrypted, as Lambda keeps them, under a key derived from the service's
 * own secret.
 */

/** A function's variables encrypted at rest (AES-256-GCM). */
interface SealedEnv {
  iv: string
  tag: string
  data: string
}

const envKey = (identityKey: string): Buffer =>
  Buffer.from(
    hkdfSync('sha256', Buffer.from(identityKey, 'utf8'), Buffer.alloc(0), 'faas-local function variables', 32),
  )

function sealEnv(env: Record<string, string>, identityKey: string): SealedEnv {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', envKey(identityKey), iv)
  const data = Buffer.concat([cipher.update(JSON.stringify(env), 'utf8'), cipher.final()])
  return {iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64')}
}

function openEnv(sealed: SealedEnv, identityKey: string): Record<string, string> | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', envKey(identityKey), Buffer.from(sealed.iv, 'base64'))
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    return JSON.parse(
      Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8'),
    )
  } catch {
    return undefined
  }
}

/** A function or version as saved: its variables sealed, its versions (if any) saved the same way. */
type Saved = Omit<LocalFunction, 'env' | 'versions'> & {env?: unknown; sealedEnv?: SealedEnv; versions?: Saved[]}

/** A saved function or version with what older files lack filled in; undefined when its variables cannot be opened. */
function restore(fn: Saved, identityKey: string): LocalFunction | undefined {
  const env = fn.sealedEnv ? openEnv(fn.sealedEnv, identityKey) : {}
  if (!env) return undefined
  const {sealedEnv: _sealed, versions: savedVersions, ...rest} = fn
  const versions: LocalFunction[] = []
  for (const saved of savedVersions ?? []) {
    const version = restore(saved, identityKey)
    if (!version) return undefined
    versions.push(version)
  }
  return {
    ...rest,
    env,
    ephemeralStorageMb: fn.ephemeralStorageMb ?? 512,
    logFormat: fn.logFormat ?? 'Text',
    revision: fn.revision ?? 1,
    revisionId: fn.revisionId ?? randomUUID(),
    ...(versions.length > 0 ? {versions} : {}),
  }
}

const seal = ({env, versions, ...fn}: LocalFunction, identityKey: string): Saved => ({
  ...fn,
  sealedEnv: sealEnv(env, identityKey),
  ...(versions ? {versions: versions.map((v) => seal(v, identityKey))} : {}),
})

/**
 * Functions a previous service on the same FAAS_HOME knew (a corrupt file stops the start, naming
 * it); a function whose variables cannot be opened (the key was replaced) is left out with a
 * warning to deploy it again.
 */
export function loadFunctions(file: string | undefined, identityKey: string, emit: Emit): LocalFunction[] {
  if (!file) return []
  const saved = readJsonFileSync<{functions?: Saved[]}>(file, {
    what: "the local service's functions",
    fix: `Repair it, or remove it and deploy your functions again (faas deploy --target local).`,
  })
  const loaded: LocalFunction[] = []
  for (const fn of saved?.functions ?? []) {
    if (typeof fn?.name !== 'string' || typeof fn.imageUri !== 'string') continue
    const restored = restore(fn, identityKey)
    if (!restored) {
      emit({
        kind: 'warn',
        subject: fn.name,
        message:
          `its saved variables cannot be opened with this service's key; deploy it again (faas deploy ` +
          `--target local)`,
      })
      continue
    }
    loaded.push(restored)
  }
  return loaded
}

/** Saves the functions atomically (variables encrypted); a failure is a warning, not a failed call. */
export function saveFunctions(
  file: string | undefined,
  all: Iterable<LocalFunction>,
  identityKey: string,
  emit: Emit,
): void {
  if (!file) return
  try {
    const functions = [...all].map((fn) => seal(fn, identityKey))
    writeJsonFileSync(file, {functions})
  } catch (error) {
    emit({
      kind: 'warn',
      subject: 'local',
      message: `${(error as Error).message} A restarted service will not know the latest functions.`,
    })
  }
}
