import {UserError, messageOf} from '../core/errors.js'
import type {DockerEngine} from './engine.js'

/**
 * The one Docker network function environments run on: an internal bridge faas creates, with
 * inter-container traffic off, so an environment reaches no other container and nothing beyond
 * this machine (no instance metadata, no internet). Its gateway, 169.254.170.2, is the address
 * on the host where the local service meets its environments; it is also the ECS
 * container-credentials address every AWS SDK accepts for AWS_CONTAINER_CREDENTIALS_FULL_URI.
 */
export const FUNCTION_NETWORK = 'faas-functions'
export const FUNCTION_GATEWAY = '169.254.170.2'
const SUBNET = '169.254.170.0/23'
const LABEL = 'dev.faas.network'

/** Creates the network unless it exists (two services starting at once converge on one). */
export async function ensureFunctionNetwork(
  engine: DockerEngine,
  attempt = 0,
): Promise<{name: string; gateway: string}> {
  const existing = await inspect(engine)
  if (existing) return {name: FUNCTION_NETWORK, gateway: FUNCTION_GATEWAY}
  try {
    await engine.docker.createNetwork({
      Name: FUNCTION_NETWORK,
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: true,
      Labels: {[LABEL]: 'functions'},
      IPAM: {Driver: 'default', Config: [{Subnet: SUBNET, Gateway: FUNCTION_GATEWAY}]},
      Options: {'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.name': 'faas-fn0'},
    })
  } catch (error) {
    // Made by another service in the meantime: fine. Anything else (the subnet taken by someone else's network) is the
    // user's to solve.
    if (await inspect(engine)) return {name: FUNCTION_NETWORK, gateway: FUNCTION_GATEWAY}
    // Another service was removing it (unused for an instant): its subnet is free again a moment later.
    if (/overlaps/i.test(messageOf(error)) && attempt < 5) {
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt))
      return ensureFunctionNetwork(engine, attempt + 1)
    }
    throw new UserError(
      `Could not create the Docker network ${FUNCTION_NETWORK} (${SUBNET}) that isolates local ` +
        `functions: ${messageOf(error)}.`,
      {
        code: 'NETWORK_FAILED',
        fix: `Check \`docker network ls\` for a network using ${SUBNET} and remove it if it is stale.`,
      },
    )
  }
  return {name: FUNCTION_NETWORK, gateway: FUNCTION_GATEWAY}
}

async function inspect(engine: DockerEngine): Promise<{containers: number} | undefined> {
  try {
    const info = (await engine.docker.getNetwork(FUNCTION_NETWORK).inspect()) as {
      Labels?: Record<string, string>
      Containers?: Record<string, unknown>
    }
    if (!info.Labels?.[LABEL]) {
      throw new UserError(`A Docker network named ${FUNCTION_NETWORK} exists but faas did not create it.`, {
        code: 'NETWORK_FAILED',
        fix: `Remove or rename it (docker network rm ${FUNCTION_NETWORK}); faas makes its own.`,
      })
    }
    return {containers: Object.keys(info.Containers ?? {}).length}
  } catch (error) {
    if ((error as {statusCode?: number}).statusCode === 404) return undefined
    throw error
  }
}

/** Removes the network once no container uses it (another service may still: then it stays). */
export async function removeFunctionNetworkIfUnused(engine: DockerEngine): Promise<boolean> {
  try {
    const info = await inspect(engine)
    if (!info || info.containers > 0) return false
    await engine.docker.getNetwork(FUNCTION_NETWORK).remove()
    return true
  } catch {
    return false
  }
}

/** The container's address on the function network. */
export async function addressOn(
  engine: DockerEngine,
  containerId: string,
  network = FUNCTION_NETWORK,
): Promise<string | undefined> {
  const info = await engine.docker.getContainer(containerId).inspect()
  return info.NetworkSettings?.Networks?.[network]?.IPAddress || undefined
}

/**
 * Runs a creation on the function network (a container on it, or a listener on its gateway); when another service
 * removed the network meanwhile (it was unused for an instant), makes it again and tries once more. Gone, the network
 * takes its gateway address with it: a listener then fails with EADDRNOTAVAIL.
 */
export async function onFunctionNetwork<T>(engine: DockerEngine, create: () => Promise<T>): Promise<T> {
  try {
    return await create()
  } catch (error) {
    const gone = (error as {code?: string})?.code === 'EADDRNOTAVAIL' || /network .*not found/i.test(messageOf(error))
    if (!gone) throw error
    await ensureFunctionNetwork(engine)
    return create()
  }
}

/**
 * A plain (not internal) bridge faas owns, for `faas serve`: ports can still be published on
 * 127.0.0.1, and its gateway is where the host forwards the loopback S3 store to the servers.
 * The engine picks the subnet; the gateway is read back.
 */
export async function ensureServeNetwork(engine: DockerEngine, name: string): Promise<{name: string; gateway: string}> {
  const gatewayOf = async (): Promise<string | undefined> => {
    try {
      const info = (await engine.docker.getNetwork(name).inspect()) as {
        Labels?: Record<string, string>
        IPAM?: {Config?: Array<{Gateway?: string}>}
      }
      if (info.Labels?.[LABEL] !== 'serve') {
        throw new UserError(`A Docker network named ${name} exists but faas did not create it.`, {
          code: 'NETWORK_FAILED',
          fix: `Remove or rename it (docker network rm ${name}); faas makes its own.`,
        })
      }
      return info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway
    } catch (error) {
      if ((error as {statusCode?: number}).statusCode === 404) return undefined
      throw error
    }
  }
  let gateway = await gatewayOf()
  if (!gateway) {
    try {
      await engine.docker.createNetwork({
        Name: name,
        CheckDuplicate: true,
        Driver: 'bridge',
        Labels: {[LABEL]: 'serve'},
      })
    } catch (error) {
      // Made by a second serve in the meantime: fine; anything else is reported below.
      if (!(await gatewayOf()))
        throw new UserError(`Could not create the Docker network ${name} for served benchmarks: ${messageOf(error)}.`, {
          code: 'NETWORK_FAILED',
          fix: "Check `docker network ls` and the engine's address pools.",
        })
    }
    gateway = await gatewayOf()
  }
  if (!gateway)
    throw new UserError(`The Docker network ${name} has no gateway address.`, {
      code: 'NETWORK_FAILED',
      fix: `Remove it (docker network rm ${name}); faas makes it again.`,
    })
  return {name, gateway}
}

/** Removes a network faas made once no container uses it; absent is fine. */
export async function removeNetworkIfUnused(engine: DockerEngine, name: string): Promise<boolean> {
  try {
    const info = (await engine.docker.getNetwork(name).inspect()) as {
      Labels?: Record<string, string>
      Containers?: Record<string, unknown>
    }
    if (!info.Labels?.[LABEL] || Object.keys(info.Containers ?? {}).length > 0) return false
    await engine.docker.getNetwork(name).remove()
    return true
  } catch {
    return false
  }
}
