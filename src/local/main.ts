/**
 * Entry point of a detached local Lambda service (`faas local start --detach`, ensureLocalService).
 * Options come as flags; the user's credentials, when passed on, only through stdin.
 */
import {closeSync, writeSync} from 'node:fs'
import {text} from 'node:stream/consumers'
import {parseArgs} from 'node:util'

import {messageOf} from '../core/errors.js'
import {RotatingLog} from '../core/files.js'
import {loadSettings} from '../core/settings.js'
import {READY_FD, runService} from './service-process.js'

const {values} = parseArgs({
  options: {
    port: {type: 'string'},
    's3-endpoint': {type: 'string'},
    'aws-endpoint': {type: 'string'},
    'async-retry-delays': {type: 'string'},
    'idle-timeout': {type: 'string'},
    'max-environments': {type: 'string'},
    'max-queue': {type: 'string'},
    'queue-timeout': {type: 'string'},
    prepared: {type: 'string'},
    'prepared-total': {type: 'string'},
    'no-prepare': {type: 'boolean', default: false},
    'pass-credentials': {type: 'boolean', default: false},
  },
})

/** Tells the CLI that started us that we listen: a line on the fd it gave (once; it may have gone meanwhile). */
function saidReady(): void {
  const fd = Number(process.env[READY_FD])
  delete process.env[READY_FD]
  if (!Number.isInteger(fd) || fd < 3) return
  try {
    writeSync(fd, 'ready\n')
    closeSync(fd)
  } catch {}
}

const stamp = () => new Date().toISOString()
// Detached, the service writes its own log so it can rotate it; stdout (the same file) keeps only what Node prints on a
// crash.
const log = process.env.FAAS_LOCAL_LOG_FILE ? new RotatingLog(process.env.FAAS_LOCAL_LOG_FILE) : undefined
const write = (text: string) => (log ? log.write(text) : process.stdout.write(text))
try {
  // --pass-credentials: the starting CLI writes the user's credentials to our stdin.
  const credentials =
    values['pass-credentials'] && !process.stdin.isTTY
      ? (JSON.parse((await text(process.stdin)) || 'null') ?? undefined)
      : undefined
  await runService(
    loadSettings(),
    {
      port: values.port ? Number(values.port) : undefined,
      s3Endpoint: values['s3-endpoint'],
      awsEndpoint: values['aws-endpoint'],
      asyncRetryDelays: values['async-retry-delays'],
      idleTimeoutS: values['idle-timeout'] ? Number(values['idle-timeout']) : undefined,
      maxEnvironments: values['max-environments'] ? Number(values['max-environments']) : undefined,
      maxQueue: values['max-queue'] ? Number(values['max-queue']) : undefined,
      queueTimeoutS: values['queue-timeout'] ? Number(values['queue-timeout']) : undefined,
      prepared: values.prepared ? Number(values.prepared) : undefined,
      preparedTotal: values['prepared-total'] ? Number(values['prepared-total']) : undefined,
      prepare: values['no-prepare'] ? false : undefined,
      passCredentials: values['pass-credentials'],
      credentials,
    },
    (event) => write(`${stamp()} ${event.subject} ${event.message}\n`),
    () => saidReady(),
  )
  process.exit(0)
} catch (error) {
  write(`${stamp()} local service failed: ${messageOf(error)}\n`)
  process.exit(1)
}
