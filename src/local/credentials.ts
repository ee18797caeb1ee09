import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {UserError, messageOf} from '../core/errors.js'
import {ensurePrivateDirSync} from '../core/files.js'
import {stateDir} from './contracts.js'

/**
 * The local service's secrets, made on its first start and kept 0600 in $FAAS_HOME/local/:
 * an AWS-style key pair every SDK signs its requests with (the service checks SigV4 as Lambda
 * does), and an identity key the service proves it holds before the CLI sends it anything.
 */
export interface ServiceSecrets {
  accessKeyId: string
  secretAccessKey: string
  /** HMAC key of the identity proof; never sent anywhere. */
  identityKey: string
}

export const credentialsFile = (env: NodeJS.ProcessEnv = process.env): string => join(stateDir(env), 'credentials.json')

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** A fresh secret set: an access key id shaped like AWS's (AKIA + 16), a 40-character secret. */
export function generateSecrets(): ServiceSecrets {
  const id = [...randomBytes(16)].map((b) => BASE32[b % 32]).join('')
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B'),
    identityKey: randomBytes(32).toString('hex'),
  }
}

function parse(text: string, file: string): ServiceSecrets {
  let value: Partial<ServiceSecrets>
  try {
    value = JSON.parse(text)
  } catch (error) {
    value = {}
    void error
  }
  if (
    typeof value?.accessKeyId !== 'string' ||
    typeof value.secretAccessKey !== 'string' ||
    typeof value.identityKey !== 'string'
  ) {
    throw new UserError(`The local service's credentials file ${file} is damaged.`, {
      code: 'BAD_LOCAL_CREDENTIALS',
      fix:
        `Stop the local service (faas local stop), remove ${file}, and start it again: a new pair is made ` +
        `(reconfigure SDKs with \`faas local credentials\`).`,
    })
  }
  return {accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey, identityKey: value.identityKey}
}

/** The stored secrets, or undefined when the service never ran under this FAAS_HOME. */
export function readSecrets(env: NodeJS.ProcessEnv = process.env): ServiceSecrets | undefined {
  const file = credentialsFile(env)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UserError(`Cannot read the local service's credentials ${file}: ${messageOf(error)}.`, {
      code: 'BAD_LOCAL_CREDENTIALS',
      fix: 'Check the permissions of that file (it is yours, mode 0600).',
    })
  }
  return parse(text, file)
}

/**
 * The stored secrets, made on first use. Written whole to a private temp file, then hard-linked
 * into place: a second process starting at the same moment finds the first one's file (EEXIST)
 * and uses it, so both agree on one pair.
 */
export function loadOrCreateSecrets(env: NodeJS.ProcessEnv = process.env): ServiceSecrets {
  const existing = readSecrets(env)
  if (existing) return existing
  const dir = stateDir(env)
  ensurePrivateDirSync(dir)
  const file = credentialsFile(env)
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(temp, 'wx', 0o600)
  try {
    writeSync(fd, JSON.stringify(generateSecrets(), null, 2))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    rmSync(temp, {force: true})
  }
  return readSecrets(env)!
}

/** The CLI's view: the stored pair, or a clear error when the service never made one. */
export function requireSecrets(env: NodeJS.ProcessEnv = process.env): ServiceSecrets {
  const secrets = readSecrets(env)
  if (!secrets) {
    throw new UserError(`The local service has no credentials yet (${credentialsFile(env)} does not exist).`, {
      code: 'NO_LOCAL_CREDENTIALS',
      fix: 'Start it once (faas local start --detach): it makes its key pair on first start.',
    })
  }
  return secrets
}
