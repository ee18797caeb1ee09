import {removeContainer, startContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {addressOn, onFunctionNetwork} from '../docker/networks.js'
import {serviceLabels} from './container-spec.js'
import {nativeImage, sandboxInit, SANDBOX_INIT} from './sandbox.js'
import type {ServiceOptions} from './types.js'

/**
 * Network namespaces on the functions' network, made ahead (the pattern of Kubernetes' pause container): a sandbox
 * joins one (`NetworkMode: container:<holder>`) instead of having the engine wire it to the bridge as it starts,
 * which is most of a container's start here (about 300 ms against 110 ms). A holder serves one sandbox and is
 * removed once that sandbox has ended, so no two environments ever share a namespace, and what a sandbox reaches is
 * what the functions' network allows, as before. A call's own sandbox takes only a holder already made: a burst
 * beyond them is wired to the bridge, as without holders, rather than wait for more.
 */
export const HOLDER_LABEL = 'dev.faas.local.network-holder'
/** Two ahead: a new function's first sandbox and a cold call's, without keeping the engine busy at start. */
const STOCK = 2
const RETRY_AFTER_MS = 30_000

export interface NetworkHolder {
  id: string
  /** The sandbox's address on the functions' network: the holder's. */
  address: string
  /** The sandbox that joined it has ended (or never started): the holder goes. */
  release(): void
}

export class NetworkHolders {
  readonly #ready: NetworkHolder[] = []
  /** Holders being made; a claimed one goes to the sandbox that waits for it, not to the stock. */
  readonly #making: Array<{holder: Promise<NetworkHolder | undefined>; claimed: boolean}> = []
  readonly #removing = new Set<Promise<void>>()
  #image?: Promise<string | undefined>
  /** When making one last failed (no helper or native image, the engine away): none are tried for a while. */
  #failedAt = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(
    readonly engine: DockerEngine,
    readonly options: Pick<ServiceOptions, 'instanceId' | 'port' | 'hostArchitecture' | 'network'>,
  ) {}

  /**
   * A holder made ahead, or undefined; either way the stock is topped up in the background. A sandbox prepared
   * ahead (`ahead`) may wait for one still being made, which is ready sooner than a wiring started now; a call's
   * own sandbox never waits.
   */
  async take(ahead: boolean): Promise<NetworkHolder | undefined> {
    const ready = this.#ready.shift()
    const making = ready || !ahead ? undefined : this.#making.find((m) => !m.claimed)
    if (making) making.claimed = true
    this.fill()
    return ready ?? (await making?.holder)
  }

  /** Tops the stock up (at start, and after each take). */
  fill(): void {
    const resting = performance.now() - this.#failedAt < RETRY_AFTER_MS
    const stocked = () => this.#ready.length + this.#making.filter((m) => !m.claimed).length
    while (!this.#closed && !resting && stocked() < STOCK) {
      const making: {holder: Promise<NetworkHolder | undefined>; claimed: boolean} = {
        holder: Promise.resolve(undefined),
        claimed: false,
      }
      making.holder = this.#make()
        .then(
          (holder) => {
            if (making.claimed) return holder
            if (this.#closed) holder.release()
            else this.#ready.push(holder)
            return undefined
          },
          () => void (this.#failedAt = performance.now()), // meanwhile sandboxes are wired to the bridge
        )
        .finally(() => this.#making.splice(this.#making.indexOf(making), 1))
      this.#making.push(making)
    }
  }

  async #make(): Promise<NetworkHolder> {
    const arch = this.options.hostArchitecture
    const helper = sandboxInit(arch)
    const network = this.options.network
    const image = await (this.#image ??= nativeImage(this.engine, arch))
    if (!helper || !network || !image) throw new Error('no helper, network or native image for network holders')
    const id = await onFunctionNetwork(this.engine, () =>
      startContainer(this.engine, {
        image,
        entrypoint: [SANDBOX_INIT],
        cmd: ['--faas-hold-network'],
        env: {},
        labels: {...serviceLabels(this.options), [HOLDER_LABEL]: 'true'},
        memoryMb: 16,
        nanoCpus: 0.05e9,
        network: network.name,
        binds: [`${helper}:${SANDBOX_INIT}:ro`],
        capDrop: ['ALL'],
        securityOpt: ['no-new-privileges'],
        readOnlyRootfs: true,
      }),
    )
    const release = () => {
      const removing: Promise<void> = removeContainer(this.engine, id).catch(() => undefined)
      this.#removing.add(removing)
      void removing.finally(() => this.#removing.delete(removing))
    }
    const address = await addressOn(this.engine, id, network.name).catch(() => undefined)
    if (!address) {
      release()
      throw new Error('the network holder got no address')
    }
    return {id, address, release}
  }

  /** Removes the holders made ahead, once those being made are done, and waits for every removal. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.allSettled(this.#making.map((m) => m.holder))
    for (const holder of this.#ready.splice(0)) holder.release()
    await Promise.allSettled([...this.#removing])
  }
}
