import {execFile} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, openSync, rmSync} from 'node:fs'
import {createConnection, type Socket} from 'node:net'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {killContainer, removeContainer, runContainer, type RunningContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {serviceLabels} from './container-spec.js'
import {LABEL} from './contracts.js'
import {nativeImage, sandboxInit, SANDBOX_INIT} from './sandbox.js'
import type {ServiceOptions, TmpDisk, TmpDiskProvider} from './types.js'

/**
 * Disk-backed /tmp for environments, as Lambda's: ENOSPC at the ephemeral-storage size, and the
 * files never charged to the function's memory (a tmpfs is). Each environment gets a sparse ext4
 * image made on the host (mke2fs, no privileges), bound to a loop device by the loop keeper (the
 * static sandbox helper in one container per service with CAP_SYS_ADMIN and the loop devices:
 * only what the engine itself grants) and mounted by the engine as a `local` volume of type ext4.
 * The image is unlinked as soon as it is bound and the device is AUTOCLEAR: nothing is left on the
 * host once the engine unmounts it, however the service ends. Where any step is impossible (no
 * e2fsprogs, a rootless or remote engine), environments keep the tmpfs and `reason` says why.
 */

const run = promisify(execFile)
/** A disk is prepared ahead for each size in use, so a cold start only takes one. */
const STOCK_PER_SIZE = 1

/**
 * The ext4 image's size for a usable size: ext4's own overhead (inode tables and bitmaps, about 1.9 % without
 * a journal) and the blocks it keeps for delayed allocation (2 %, at most 16 MB) come on top, so ENOSPC comes at
 * the size.
 */
export const imageSizeMb = (usableMb: number): number => Math.floor((usableMb + Math.min(usableMb * 0.02, 16)) / 0.981)

/** mke2fs on the host: without a journal (scratch space), nothing reserved, then the root made 1777 and empty. */
export async function formatImage(file: string, sizeMb: number): Promise<void> {
  const fd = openSync(file, 'w', 0o600)
  closeSync(fd)
  await run('truncate', ['-s', `${imageSizeMb(sizeMb)}M`, file])
  const tool = (name: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((d) => join(d, name)).find(existsSync)
  const mke2fs = tool('mke2fs')
  const debugfs = tool('debugfs')
  if (!mke2fs || !debugfs) throw new Error('e2fsprogs (mke2fs, debugfs) is not installed on this machine')
  await run(mke2fs, ['-q', '-F', '-t', 'ext4', '-O', '^has_journal', '-m', '0', file])
  await run(debugfs, ['-w', '-R', 'sif / mode 041777', file])
  await run(debugfs, ['-w', '-R', 'rmdir lost+found', file])
}

/** Marks the service's loop keeper: one container per service, not a function's environment. */
export const KEEPER_LABEL = 'dev.faas.local.loop-keeper'

export class TmpDisks implements TmpDiskProvider {
  /** Why environments keep a tmpfs /tmp (undefined while disks work). */
  reason?: string
  readonly #dir: string
  readonly #socket: string
  #keeper?: Promise<RunningContainer>
  readonly #stock = new Map<number, Array<Promise<TmpDisk>>>()
  readonly #pending = new Set<Promise<unknown>>()
  #closed = false

  constructor(
    readonly engine: DockerEngine,
    readonly options: Pick<ServiceOptions, 'instanceId' | 'port' | 'hostArchitecture'>,
    stateDir: string,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.#dir = join(stateDir, 'tmp-disks', options.instanceId.slice(0, 8))
    this.#socket = join(this.#dir, 'keeper.sock')
  }

  /** A disk for an environment of `image`, or undefined (the tmpfs then) once disks proved impossible here. */
  async take(sizeMb: number, image: string): Promise<TmpDisk | undefined> {
    if (this.reason || this.#closed) return undefined
    const stocked = this.#stock.get(sizeMb) ?? []
    const next = stocked.shift() ?? this.#make(sizeMb, image)
    while (stocked.length < STOCK_PER_SIZE) stocked.push(this.#track(this.#make(sizeMb, image)))
    this.#stock.set(sizeMb, stocked)
    try {
      return await next
    } catch (error) {
      if (!this.reason) {
        this.reason = `/tmp stays in memory (tmpfs): a disk-backed /tmp needs ${(error as Error).message ?? error}`
        this.warn(this.reason)
      }
      return undefined
    }
  }

  /**
   * Starts the keeper and stocks a disk of `sizeMb` before any call needs one (the first sandbox of a service would
   * otherwise wait for both), in any local image of this machine's architecture: the helper is static.
   */
  async warm(sizeMb: number): Promise<void> {
    if (this.reason || this.#closed || this.#stock.get(sizeMb)?.length) return
    const image = await nativeImage(this.engine, this.options.hostArchitecture)
    if (!image || this.reason || this.#closed || this.#stock.get(sizeMb)?.length) return
    this.#stock.set(sizeMb, [this.#track(this.#make(sizeMb, image))])
  }

  /** Disks being made (formatted, attached, their volume created): work a killed service leaves half done. */
  get making(): number {
    return this.#pending.size
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    const settled: Promise<unknown> = promise.then(
      () => this.#pending.delete(settled),
      () => this.#pending.delete(settled),
    )
    this.#pending.add(settled)
    promise.catch(() => {})
    return promise
  }

  async #make(sizeMb: number, image: string): Promise<TmpDisk> {
    mkdirSync(this.#dir, {recursive: true, mode: 0o700})
    const name = `faas-tmp-${this.options.instanceId.slice(0, 8)}-${randomUUID().slice(0, 12)}`
    const file = join(this.#dir, `${name}.img`)
    try {
      // The keeper's first start is the longer wait (a container start): the image is formatted meanwhile.
      await Promise.all([formatImage(file, sizeMb), this.#startKeeper(image)])
      const {device, hold} = await this.#attach(file)
      try {
        await this.engine.docker.createVolume({
          Name: name,
          Driver: 'local',
          DriverOpts: {type: 'ext4', device},
          Labels: serviceLabels(this.options),
        })
      } catch (error) {
        hold.destroy()
        throw error
      }
      if (this.#closed) hold.destroy()
      return {
        volume: name,
        started: () => hold.end(),
        remove: (containerId) => this.#track(this.#removeVolume(name, containerId, hold)),
      }
    } finally {
      rmSync(file, {force: true}) // bound or failed: the device (if any) holds the open file
    }
  }

  /** Starts the loop keeper once (in the first function's image: any image does, the helper is static). */
  #startKeeper(image: string): Promise<RunningContainer> {
    this.#keeper ??= (async () => {
      const helper = sandboxInit(this.options.hostArchitecture)
      if (!helper) throw new Error('the static sandbox helper (docker/sandbox-init), which is not built')
      rmSync(this.#socket, {force: true})
      const keeper = await runContainer(this.engine, {
        image,
        entrypoint: [SANDBOX_INIT],
        cmd: ['--faas-loop-keeper', this.#socket, String(process.getuid?.() ?? 0), String(process.getgid?.() ?? 0)],
        env: {},
        labels: {...serviceLabels(this.options), [KEEPER_LABEL]: 'true'},
        memoryMb: 32,
        nanoCpus: 0.1e9,
        // The host's network namespace, not one of its own: it uses no network (a socket in a bound folder), and
        // making a namespace, even for 'none', is half of a container's start here (~0.1 s), which a service's first
        // sandbox would wait for (its disk needs the keeper).
        network: 'host',
        binds: [`${helper}:${SANDBOX_INIT}:ro`, `${this.#dir}:${this.#dir}`],
        capDrop: ['ALL'],
        capAdd: ['SYS_ADMIN', 'MKNOD', 'CHOWN', 'DAC_OVERRIDE'],
        devices: ['/dev/loop-control'],
        deviceCgroupRules: ['b 7:* rwm'],
      })
      const ready = new Promise<void>((resolve, reject) => {
        keeper.onLine((line) => (line === 'ready' ? resolve() : undefined))
        keeper.exited.then(() => reject(new Error('loop devices from the engine (the loop keeper ended)')))
      })
      await ready
      return keeper
    })()
    return this.#keeper
  }

  /** Asks the keeper for a device bound to `file`; the connection holds it until `started`. */
  #attach(file: string): Promise<{device: string; hold: Socket}> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.#socket)
      let answer = ''
      socket.on('error', (error) => reject(new Error(`the loop keeper (${error.message})`)))
      socket.on('data', (chunk) => {
        answer += chunk.toString('utf8')
        if (!answer.includes('\n')) return
        const line = answer.trim()
        if (line.startsWith('/dev/')) resolve({device: line, hold: socket})
        else {
          socket.destroy()
          reject(new Error(`a loop device (${line.replace(/^error /, '')})`))
        }
      })
      socket.write(`${file}\n`)
    })
  }

  /** The volume goes once its container is removed (the engine refuses while it exists). */
  async #removeVolume(name: string, containerId: string | undefined, hold: Socket): Promise<void> {
    hold.destroy()
    const deadline = Date.now() + 60_000
    while (containerId && Date.now() < deadline) {
      const gone = await this.engine.docker
        .getContainer(containerId)
        .inspect()
        .then(
          () => false,
          (error: {statusCode?: number}) => error.statusCode === 404,
        )
      if (gone) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await this.engine.docker
      .getVolume(name)
      .remove()
      .catch(() => {})
  }

  /** Stops the keeper, drops the stock, removes this service's volumes not in use; idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    for (const stocked of this.#stock.values())
      for (const disk of stocked)
        void disk.then(
          (d) => d.remove(),
          () => {},
        )
    this.#stock.clear()
    await Promise.race([Promise.allSettled([...this.#pending]), new Promise((r) => setTimeout(r, 10_000).unref())])
    const keeper = await this.#keeper?.catch(() => undefined)
    if (keeper) {
      await killContainer(this.engine, keeper.id)
      await removeContainer(this.engine, keeper.id).catch(() => {})
    }
    await removeVolumes(this.engine, (labels) => labels[LABEL] === this.options.instanceId)
    rmSync(this.#dir, {recursive: true, force: true})
  }
}

/** Removes the faas volumes whose labels `match` and that no container uses; the count removed. */
export async function removeVolumes(
  engine: DockerEngine,
  match: (labels: Record<string, string>) => boolean | Promise<boolean>,
): Promise<number> {
  const {Volumes} = await engine.docker.listVolumes({filters: {label: [LABEL]}})
  let removed = 0
  for (const volume of Volumes ?? []) {
    if (!(await match(volume.Labels ?? {}))) continue
    const ok = await engine.docker
      .getVolume(volume.Name)
      .remove()
      .then(
        () => true,
        () => false,
      )
    if (ok) removed++
  }
  return removed
}
