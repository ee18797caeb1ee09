import {spawn} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {connect, createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {UserError} from '../core/errors.js'
import {writeJsonFileSync} from '../core/files.js'
import {pollUntil} from '../core/wait.js'
import {processGone} from './contracts.js'

/** Is this endpoint on the host's loopback, which a container on a Docker bridge cannot reach? */
export const isLoopbackEndpoint = (endpoint: string): boolean =>
  ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(endpoint).hostname)

export interface LoopbackForwarder {
  /** The port it listens on (on `host`). */
  port: number
  close(): Promise<void>
}

/**
 * A TCP forwarder from `host` (a Docker network's gateway: the host's address as its containers
 * see it) to a port on 127.0.0.1, so containers reach a loopback-only store such as the local S3.
 * It listens on `host` only, never on every address.
 */
export function forwardToLoopback(host: string, targetPort: number, listenPort = 0): Promise<LoopbackForwarder> {
  const open = new Set<Socket>()
  const server: Server = createServer((socket) => {
    const upstream = connect(targetPort, '127.0.0.1')
    open.add(socket)
    socket.on('close', () => open.delete(socket))
    socket.pipe(upstream).pipe(socket)
    const end = () => {
      socket.destroy()
      upstream.destroy()
    }
    socket.on('error', end)
    upstream.on('error', end)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(listenPort, host, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => {
          for (const socket of open) socket.destroy()
          return new Promise<void>((done) => server.close(() => done()))
        },
      }),
    )
  })
}

interface DetachedState {
  pid: number
  host: string
  port: number
  targetPort: number
}

const readState = (file: string): DetachedState | undefined => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DetachedState
  } catch {
    return undefined
  }
}

const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, host)
    socket.setTimeout(1000)
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => (socket.destroy(), resolve(false)))
  })

/**
 * The forwarder as a detached process, for containers that outlive the command that started them
 * (`faas serve`). Idempotent: a live one with the same addresses, recorded in `stateFile`, is kept.
 */
export async function ensureDetachedForwarder(
  stateFile: string,
  host: string,
  port: number,
  targetPort: number,
): Promise<void> {
  const known = readState(stateFile)
  if (known && !processGone(known.pid)) {
    if (known.host === host && known.port === port && known.targetPort === targetPort && (await accepts(host, port)))
      return
    process.kill(known.pid, 'SIGTERM')
    await pollUntil(async () => processGone(known.pid), {timeoutMs: 10_000})
  }
  const here = fileURLToPath(import.meta.url)
  const [file, execArgv] = here.endsWith('.ts')
    ? [join(here, '..', 'forwarder-main.ts'), ['--import', 'tsx']]
    : [join(here, '..', 'forwarder-main.js'), []]
  const child = spawn(process.execPath, [...execArgv, file, host, String(port), String(targetPort)], {
    detached: true,
    stdio: 'ignore',
  })
  let exited = false
  child.once('exit', () => (exited = true))
  child.unref()
  const up = await pollUntil(() => accepts(host, port), {timeoutMs: 30_000, giveUp: () => exited})
  if (!up) {
    if (!exited) child.kill('SIGTERM')
    throw new UserError(`Could not forward the local S3 store onto ${host}:${port} for served containers.`, {
      code: 'FORWARD_FAILED',
      fix: `Check that nothing else listens on ${host}:${port} (FAAS_LOCAL_S3_PORT chooses another port).`,
    })
  }
  writeJsonFileSync(stateFile, {pid: child.pid!, host, port, targetPort} satisfies DetachedState)
}

/** Stops the detached forwarder recorded in `stateFile`, if it still runs. */
export async function stopDetachedForwarder(stateFile: string): Promise<boolean> {
  const known = readState(stateFile)
  rmSync(stateFile, {force: true})
  if (!known || processGone(known.pid)) return false
  process.kill(known.pid, 'SIGTERM')
  await pollUntil(async () => processGone(known.pid), {timeoutMs: 10_000})
  return true
}
