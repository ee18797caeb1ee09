import {readFileSync} from 'node:fs'
import {PassThrough} from 'node:stream'

import type {DockerEngine} from './engine.js'

/**
 * Container operations the local Lambda service needs, over the one engine adapter. Narrow on
 * purpose: run one function environment, watch it end, measure its memory, remove it, and find
 * leftovers by label.
 */

export interface RunSpec {
  image: string
  /** Overrides the image's CMD (ImageConfig.Command). */
  cmd?: string[]
  env: Record<string, string>
  labels: Record<string, string>
  memoryMb: number
  nanoCpus: number
  /** Extra read-only binds `host:container`. */
  binds?: string[]
  /** Host networking unless a port map is given (container port -> host 127.0.0.1 port). */
  ports?: Record<string, number>
  name?: string
  entrypoint?: string[]
  /** A user-defined network to join (host networking when neither this nor ports is given). */
  network?: string
  /** Capabilities to drop (e.g. NET_RAW) and security options (e.g. no-new-privileges). */
  capDrop?: string[]
  securityOpt?: string[]
  /** Capabilities to add, host devices to pass and device cgroup rules (the loop keeper: see local/tmp-disk). */
  capAdd?: string[]
  devices?: string[]
  deviceCgroupRules?: string[]
  /** The root filesystem read-only (Lambda's); writable paths come from tmpfs. */
  readOnlyRootfs?: boolean
  /** tmpfs mounts: path -> mount options (e.g. `/tmp` -> `rw,exec,size=512m,mode=1777`). */
  tmpfs?: Record<string, string>
}

export interface ExitState {
  exitCode: number
  oomKilled: boolean
}

export interface RunningContainer {
  id: string
  /** Settles once the container has stopped, with its exit code and whether the kernel's OOM killer ended it. */
  exited: Promise<ExitState>
  /** Each line the container writes, stdout and stderr alike. */
  onLine(listener: (line: string) => void): void
  /**
   * Resolves once the log stream has been quiet for `quietMs` (or `maxMs` passed): lets lines still in flight through
   * the engine arrive. Quiet counts from the last chunk, or from now with `fromNow` (a line may be in flight however
   * long ago the last one arrived).
   */
  logsSettled(quietMs: number, maxMs: number, fromNow?: boolean): Promise<void>
}

function createContainer(engine: DockerEngine, spec: RunSpec) {
  const memory = spec.memoryMb * 1024 * 1024
  const portBindings: Record<string, Array<{HostIp: string; HostPort: string}>> = {}
  const exposed: Record<string, object> = {}
  for (const [port, hostPort] of Object.entries(spec.ports ?? {})) {
    portBindings[`${port}/tcp`] = [{HostIp: '127.0.0.1', HostPort: String(hostPort)}]
    exposed[`${port}/tcp`] = {}
  }
  return engine.docker.createContainer({
    Image: spec.image,
    name: spec.name,
    Cmd: spec.cmd,
    Entrypoint: spec.entrypoint,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ExposedPorts: spec.ports ? exposed : undefined,
    HostConfig: {
      NetworkMode: spec.network ?? (spec.ports ? 'bridge' : 'host'),
      CapDrop: spec.capDrop,
      CapAdd: spec.capAdd,
      Devices: spec.devices?.map((path) => ({PathOnHost: path, PathInContainer: path, CgroupPermissions: 'rwm'})),
      DeviceCgroupRules: spec.deviceCgroupRules,
      SecurityOpt: spec.securityOpt,
      PortBindings: spec.ports ? portBindings : undefined,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(spec.nanoCpus),
      Binds: spec.binds,
      ReadonlyRootfs: spec.readOnlyRootfs || undefined,
      Tmpfs: spec.tmpfs,
      AutoRemove: false,
    },
  })
}

/** Creates and starts a long-lived container without attaching, so the caller's process may exit. */
export async function startContainer(engine: DockerEngine, spec: RunSpec): Promise<string> {
  const container = await createContainer(engine, spec)
  await container.start()
  return container.id
}

/** Is the container still running? (absent counts as not) */
export async function isRunning(engine: DockerEngine, id: string): Promise<boolean> {
  return engine.docker
    .getContainer(id)
    .inspect()
    .then(
      (info) => Boolean(info.State?.Running),
      () => false,
    )
}

/**
 * Creates, attaches to and starts a container; stdout/stderr are captured line by line.
 * `onStarting` is called right before the start request (after create and attach), where a
 * platform's own timings (Lambda's init) begin.
 */
export async function runContainer(
  engine: DockerEngine,
  spec: RunSpec,
  onStarting?: () => void,
): Promise<RunningContainer> {
  const docker = engine.docker
  const container = await createContainer(engine, spec)
  const listeners: Array<(line: string) => void> = []
  // Lines written before anyone listens (the first instants after start) are kept for the first listener.
  const early: string[] = []
  const emitLine = (line: string) => {
    if (listeners.length === 0) early.push(line)
    for (const listener of listeners) listener(line)
  }
  let lastChunkAt = Date.now()
  const stream = await container.attach({stream: true, stdout: true, stderr: true})
  const out = new PassThrough()
  // The engine going away ends the stream (with or without an error): seen through `exited`, never thrown.
  let streamClosed!: () => void
  const streamEnded = new Promise<void>((resolve) => (streamClosed = resolve))
  stream.on('error', () => {
    out.end()
    streamClosed()
  })
  stream.on('close', () => streamClosed())
  stream.on('end', () => streamClosed())
  docker.modem.demuxStream(stream, out, out)
  let partial = ''
  out.on('data', (chunk: Buffer) => {
    lastChunkAt = Date.now()
    partial += chunk.toString('utf8')
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) emitLine(line.replace(/\r$/, ''))
  })
  // Register the wait before starting, so an instant exit is never missed.
  const waiting = container.wait({condition: 'next-exit'} as object)
  waiting.catch(() => {})
  onStarting?.()
  try {
    await container.start()
  } catch (error) {
    ;(stream as {destroy?: () => void}).destroy?.()
    await removeContainer(engine, container.id).catch(() => {})
    throw error
  }
  const exitedNormally = waiting.then(async (result: {StatusCode?: number}) => {
    let oomKilled = false
    try {
      oomKilled = Boolean((await container.inspect()).State?.OOMKilled)
    } catch {}
    if (partial) emitLine(partial)
    partial = ''
    return {exitCode: result?.StatusCode ?? -1, oomKilled}
  })
  // A wait cut off by the engine going away never settles: once the output stream ends, ask the
  // engine; if it does not answer, the container is lost with it.
  const engineLost = streamEnded.then(
    () =>
      new Promise<never>((_resolve, reject) => {
        container.inspect().then(
          () => {},
          (error: unknown) => {
            if ((error as {statusCode?: number}).statusCode === undefined) reject(error)
          },
        )
      }),
  )
  const exited = Promise.race([exitedNormally, engineLost])
  exited.catch(() => {})
  return {
    id: container.id,
    exited,
    onLine: (listener) => {
      listeners.push(listener)
      if (listeners.length === 1) for (const line of early.splice(0)) listener(line)
    },
    logsSettled: (quietMs, maxMs, fromNow) =>
      new Promise<void>((resolve) => {
        const asked = Date.now()
        const deadline = asked + maxMs
        const check = () => {
          const now = Date.now()
          if (now - Math.max(lastChunkAt, fromNow ? asked : 0) >= quietMs || now >= deadline) resolve()
          else setTimeout(check, Math.min(quietMs, deadline - now))
        }
        check()
      }),
  }
}

/** Kills (if running) and removes a container; absent containers are fine. */
export async function removeContainer(engine: DockerEngine, id: string): Promise<void> {
  try {
    await engine.docker.getContainer(id).remove({force: true})
  } catch (error) {
    const status = (error as {statusCode?: number}).statusCode
    if (status !== 404 && status !== 409) throw error
  }
}

export async function killContainer(engine: DockerEngine, id: string): Promise<void> {
  try {
    await engine.docker.getContainer(id).kill()
  } catch {}
}

/**
 * Peak memory of a container in bytes, from its cgroup (v1 max_usage or v2 memory.peak), else the stats API. The
 * cgroup's files are the kernel's, in memory: read synchronously (microseconds), as the thread pool's round trips for
 * each asynchronous open, stat, read and close were two thirds of what a warm call added to the runtime's own time.
 */
export async function peakMemoryBytes(engine: DockerEngine, id: string): Promise<number | undefined> {
  for (const [dir, peakFile, version] of [
    [`/sys/fs/cgroup/memory/docker/${id}`, 'memory.max_usage_in_bytes', 'v1'],
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, 'memory.peak', 'v2'],
    [`/sys/fs/cgroup/docker/${id}`, 'memory.peak', 'v2'],
  ] as const) {
    try {
      const value = Number(readFileSync(`${dir}/${peakFile}`, 'utf8').trim())
      if (Number.isFinite(value)) return withoutPageCache(value, readFileSync(`${dir}/memory.stat`, 'utf8'), version)
    } catch {}
  }
  try {
    const stats = (await engine.docker.getContainer(id).stats({stream: false})) as {
      memory_stats?: {max_usage?: number; usage?: number; stats?: Record<string, number>}
    }
    const peak = stats.memory_stats?.max_usage ?? stats.memory_stats?.usage
    const cache = unmappedCache(stats.memory_stats?.stats ?? {}, stats.memory_stats?.stats?.total_cache ? 'v1' : 'v2')
    return peak === undefined ? undefined : Math.max(0, peak - cache)
  } catch {
    return undefined
  }
}

/**
 * The cgroup's peak counts the page cache of files the function wrote or read (its disk-backed /tmp): reclaimable,
 * and not what Lambda reports as Max Memory Used. The unmapped part is taken off as it stands now (mapped files,
 * the runtime's code, still count); an approximation, as the kernel keeps no peak of the cache itself.
 */
function withoutPageCache(peak: number, stat: string, version: 'v1' | 'v2'): number {
  const values: Record<string, number> = {}
  for (const line of stat.split('\n')) {
    const [key, value] = line.split(' ')
    if (key && value) values[key] = Number(value)
  }
  return Math.max(0, peak - unmappedCache(values, version))
}

function unmappedCache(stats: Record<string, number>, version: 'v1' | 'v2'): number {
  const [cache, mapped] =
    version === 'v1' ? [stats.total_cache, stats.total_mapped_file] : [stats.file, stats.file_mapped]
  const unmapped = (cache ?? 0) - (mapped ?? 0)
  return Number.isFinite(unmapped) && unmapped > 0 ? unmapped : 0
}

/** Containers (any state) carrying a label, e.g. `dev.faas.local`. */
export async function findContainersByLabel(
  engine: DockerEngine,
  label: string,
): Promise<Array<{id: string; labels: Record<string, string>}>> {
  const list = await engine.docker.listContainers({all: true, filters: {label: [label]}})
  return list.map((c) => ({id: c.Id, labels: c.Labels ?? {}}))
}

export interface ContainerState {
  id: string
  name: string
  running: boolean
  /** Image id (sha256:…) it runs. */
  image: string
  labels: Record<string, string>
  /** Published ports: container port (e.g. "50051/tcp") -> host port. */
  ports: Record<string, number>
  /** Names of the networks it is on. */
  networks: string[]
}

/** A container by name or id, or undefined when there is none. */
export async function inspectContainer(engine: DockerEngine, ref: string): Promise<ContainerState | undefined> {
  try {
    const info = await engine.docker.getContainer(ref).inspect()
    const ports: Record<string, number> = {}
    for (const [port, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
      const host = (bindings as Array<{HostPort: string}> | null)?.[0]?.HostPort
      if (host) ports[port] = Number(host)
    }
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      running: Boolean(info.State?.Running),
      image: info.Image,
      labels: info.Config?.Labels ?? {},
      ports,
      networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
    }
  } catch (error) {
    if ((error as {statusCode?: number}).statusCode === 404) return undefined
    throw error
  }
}

/** The last lines a container wrote (stdout and stderr), for error messages. */
export async function containerLogTail(engine: DockerEngine, id: string, lines: number): Promise<string[]> {
  try {
    const raw = (await engine.docker
      .getContainer(id)
      .logs({stdout: true, stderr: true, tail: lines, follow: false})) as unknown as Buffer
    const out: string[] = []
    // Multiplexed frames: 8-byte header (stream, 0, 0, 0, size BE) then the payload.
    for (let at = 0; at + 8 <= raw.length;) {
      const size = raw.readUInt32BE(at + 4)
      out.push(raw.subarray(at + 8, at + 8 + size).toString('utf8'))
      at += 8 + size
    }
    return out
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
  } catch {
    return []
  }
}
