import {createHash} from 'node:crypto'
import {stat} from 'node:fs/promises'
import {join} from 'node:path'

import {type ProtocolInvoker} from '../bench/protocols/invoker.js'
import {httpProtocol} from '../bench/protocols/http.js'
import {UserError, isUserError, messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {type BenchmarkManifest, type FunctionManifest, resolveEnv} from '../core/manifest.js'
import {faasHome} from '../core/paths.js'
import type {Platform} from '../core/platform.js'
import {pollUntil} from '../core/wait.js'
import {
  containerLogTail,
  findContainersByLabel,
  inspectContainer,
  removeContainer,
  startContainer,
} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {ensureServeNetwork, removeNetworkIfUnused} from '../docker/networks.js'
import {buildBenchmark} from '../images/build.js'
import type {ServeHost} from '../targets/target.js'

export type ServeProtocol = 'grpc' | 'http'

/** The Dockerfile a benchmark's servers are built from (the vSwarm/Knative image, not the Lambda one). */
export const SERVE_DOCKERFILE = 'docker/Dockerfile'

const LABEL = 'dev.faas.serve'

export interface ServeRequest {
  manifest: BenchmarkManifest
  functions: FunctionManifest[]
}

export interface ServeOptions {
  /** Default: grpc when every benchmark serves it, else http. */
  protocol?: ServeProtocol
  /** Host port of the first server for the protocol (the next ones count up); default: any free one. */
  port?: number
  platform: Platform
  tag: string
  /** BASE_IMAGE: "local" for faas's offline base, or an image. */
  baseImage: string
  /** Seconds to wait for a server to answer. */
  waitS: number
  /** Region servers' SDKs are given (the local S3 store accepts any). */
  region: string
}

export interface ServedFunction {
  benchmark: string
  function: string
  protocol: ServeProtocol
  /** 127.0.0.1:<host port> for the protocol. */
  address: string
  /** Every published port: protocol -> host port on 127.0.0.1. */
  ports: Partial<Record<ServeProtocol, number>>
  container: string
  image: string
  action: 'started' | 'reused' | 'replaced'
}

export interface VhiveEndpoint {
  hostname: string
  eventing: false
  matchers: null
}

export interface ServeResult {
  protocol: ServeProtocol
  endpoints: VhiveEndpoint[]
  served: ServedFunction[]
}

/** Containers of one FAAS_HOME are apart from another's (parallel users and test runs on one engine). */
const homeId = (): string => createHash('sha256').update(faasHome()).digest('hex').slice(0, 8)

const containerName = (benchmark: string, fn: string): string => `faas-serve-${benchmark}-${fn}-${homeId()}`

/** This FAAS_HOME's serve network. */
const networkName = (): string => `faas-serve-${homeId()}`

function protocolOf(requests: ServeRequest[], asked?: ServeProtocol): ServeProtocol {
  for (const {manifest} of requests) {
    if (!manifest.serve) {
      throw new UserError(
        `Benchmark ${manifest.name} declares no servers ("serve" is missing from its benchmark.json).`,
        {
          code: 'NOT_SERVED',
          fix:
            'Add e.g. "serve": {"grpc": 50051, "http": 8080} (the container ports its docker/Dockerfile image ' +
            'listens on), or deploy it as a Lambda function and bench it with --protocol lambda.',
        },
      )
    }
  }
  const protocol = asked ?? (requests.every((r) => r.manifest.serve!.grpc) ? 'grpc' : 'http')
  for (const {manifest} of requests) {
    if (!manifest.serve![protocol]) {
      throw new UserError(
        `Benchmark ${manifest.name} is not served over ${protocol} (its "serve" ` +
          `lists ${Object.keys(manifest.serve!).join(', ')}).`,
        {
          code: 'NOT_SERVED',
          fix: `Use --protocol ${Object.keys(manifest.serve!)[0]}.`,
        },
      )
    }
  }
  return protocol
}

/** Is the server up? Any gRPC answer counts (a non-Greeter is reported, not waited on); any HTTP answer too. */
async function answers(
  invokers: Partial<Record<ServeProtocol, ProtocolInvoker>>,
  protocol: ServeProtocol,
  address: string,
  warn: (text: string) => void,
): Promise<boolean> {
  try {
    await invokers[protocol]!.check([address])
    return true
  } catch (error) {
    if (isUserError(error) && error.code === 'NOT_A_GREETER') {
      warn(error.message)
      return true
    }
    if (isUserError(error) && error.code === 'ENDPOINT_UNREACHABLE') return false
    throw error
  }
}

/**
 * Builds each benchmark's docker/Dockerfile image (cached layers make a rebuild quick), runs one
 * plain container per function with its ports published on 127.0.0.1 only, and waits until every
 * served protocol answers. Idempotent: a running container of the same image (and port, when asked)
 * is reused; one of an older image is replaced. Returns the vHive endpoints file for the protocol.
 */
export async function serveBenchmarks(
  host: ServeHost,
  requests: ServeRequest[],
  options: ServeOptions,
  emit: Emit,
): Promise<ServeResult> {
  const protocol = protocolOf(requests, options.protocol)
  for (const {manifest} of requests) {
    if (!(await stat(join(manifest.dir, SERVE_DOCKERFILE)).catch(() => undefined))) {
      throw new UserError(`Benchmark ${manifest.name} has no ${SERVE_DOCKERFILE}, which faas serve builds and runs.`, {
        code: 'NO_DOCKERFILE',
        fix:
          `Add ${join(manifest.dir, SERVE_DOCKERFILE)}: a server for its handler (gRPC ` +
          `helloworld.Greeter/SayHello and/or HTTP POST /), built with --build-arg FUNCTION=<function> and BASE_IMAGE.`,
      })
    }
  }
  const {engine} = host
  await engine.ping()
  const network = await ensureServeNetwork(engine, networkName())
  // Only servers whose functions may use S3 get the store (and start it): the others need nothing.
  const needsS3 = requests.some(({functions}) => functions.some((f) => f.policies.some((p) => /s3/i.test(p))))
  const s3Env = needsS3 ? await host.storageEnv(network.gateway, options, emit) : {}
  const invokers: Partial<Record<ServeProtocol, ProtocolInvoker>> = {
    http: httpProtocol({maxSockets: 4, timeoutMs: 2000}),
  }
  const served: ServedFunction[] = []
  try {
    for (const {manifest, functions} of requests) {
      const images = await buildBenchmark(
        engine,
        manifest,
        {
          functions: functions.map((f) => ({...f, dockerfile: SERVE_DOCKERFILE})),
          platform: options.platform,
          tag: `serve-${options.tag}`,
          baseImage: options.baseImage,
        },
        emit,
      )
      for (const fn of functions) {
        const image = images.find((i) => i.function === fn.name)!
        const wanted = options.port === undefined ? undefined : options.port + served.length
        if (manifest.serve!.grpc && !invokers.grpc)
          invokers.grpc = await (await import('../bench/protocols/grpc.js')).grpcProtocol({timeoutMs: 2000})
        served.push(
          await ensureServer(
            host,
            manifest,
            fn,
            {
              image: image.image,
              imageId: image.imageId,
              protocol,
              hostPort: wanted,
              waitS: options.waitS,
              invokers,
              network: network.name,
              s3Env,
            },
            emit,
          ),
        )
      }
    }
  } finally {
    for (const invoker of Object.values(invokers)) invoker.close()
  }
  return {protocol, endpoints: served.map((s) => ({hostname: s.address, eventing: false, matchers: null})), served}
}

async function ensureServer(
  host: ServeHost,
  manifest: BenchmarkManifest,
  fn: FunctionManifest,
  options: {
    image: string
    imageId: string
    protocol: ServeProtocol
    hostPort?: number
    waitS: number
    invokers: Partial<Record<ServeProtocol, ProtocolInvoker>>
    network: string
    s3Env: Record<string, string>
  },
  emit: Emit,
): Promise<ServedFunction> {
  const {engine} = host
  const subject = `${manifest.name}/${fn.name}`
  const name = containerName(manifest.name, fn.name)
  const containerPorts = manifest.serve! as Partial<Record<ServeProtocol, number>>
  const key = (p: ServeProtocol) => `${containerPorts[p]}/tcp`
  let action: ServedFunction['action'] = 'started'
  let state = await inspectContainer(engine, name)
  const env = {
    ...resolveEnv(manifest, fn),
    ...options.s3Env,
    FUNCTION_NAME: fn.name,
    ...(containerPorts.http ? {PORT: String(containerPorts.http)} : {}),
  }
  if (
    state?.running &&
    state.image === options.imageId &&
    state.networks.includes(options.network) &&
    (options.hostPort === undefined || state.ports[key(options.protocol)] === options.hostPort)
  ) {
    action = 'reused'
    emit({kind: 'progress', subject, message: `reusing the running server ${name}`})
  } else {
    if (state) {
      action = 'replaced'
      emit({
        kind: 'progress',
        subject,
        message: `replacing ${name} (${state.running ? 'another image or port' : 'stopped'})`,
      })
      await removeContainer(engine, state.id)
    }
    emit({kind: 'start', subject, message: `Starting ${subject} as ${name}…`})
    // Host ports: the asked one for the protocol, any free one (0) for the others; loopback only.
    const ports = Object.fromEntries(
      Object.entries(containerPorts).map(([p, port]) => [
        String(port),
        p === options.protocol ? (options.hostPort ?? 0) : 0,
      ]),
    )
    try {
      await startContainer(engine, {
        image: options.image,
        name,
        env,
        network: options.network,
        labels: {[LABEL]: manifest.name, [`${LABEL}.function`]: fn.name, [`${LABEL}.home`]: homeId()},
        // The function's Lambda memory size and the CPU share Lambda gives it, so servers and functions compare like
        // for like.
        memoryMb: fn.memoryMb,
        nanoCpus: host.nanoCpus(fn.memoryMb),
        ports,
      })
    } catch (error) {
      await removeContainer(engine, name).catch(() => {})
      const text = messageOf(error)
      if (/port is already allocated|address already in use/i.test(text)) {
        throw new UserError(`Port ${options.hostPort} on 127.0.0.1 is taken, so ${subject} cannot be served there.`, {
          code: 'PORT_IN_USE',
          fix: 'Give another --port, or leave it out to let the engine pick a free one.',
        })
      }
      throw error
    }
  }
  state = (await inspectContainer(engine, name))!
  const hostPorts = Object.fromEntries(
    (Object.keys(containerPorts) as ServeProtocol[]).map((p) => [p, state!.ports[key(p)]!]),
  ) as Partial<Record<ServeProtocol, number>>
  await awaitServer(engine, {...options, name, subject, hostPorts}, emit)
  return {
    benchmark: manifest.name,
    function: fn.name,
    protocol: options.protocol,
    address: `127.0.0.1:${hostPorts[options.protocol]}`,
    ports: hostPorts,
    container: name,
    image: options.image,
    action,
  }
}

/** Waits until every served protocol answers; a server that exits or stays silent is removed, with its last lines. */
async function awaitServer(
  engine: DockerEngine,
  options: {
    name: string
    subject: string
    hostPorts: Partial<Record<ServeProtocol, number>>
    protocol: ServeProtocol
    waitS: number
    invokers: Partial<Record<ServeProtocol, ProtocolInvoker>>
  },
  emit: Emit,
): Promise<void> {
  const {name, subject, hostPorts} = options
  const warned = new Set<string>()
  const warn = (text: string) => {
    if (!warned.has(text)) emit({kind: 'warn', subject, message: text})
    warned.add(text)
  }
  let exited = false
  const up = await pollUntil(
    async () => {
      for (const p of Object.keys(hostPorts) as ServeProtocol[])
        if (!(await answers(options.invokers, p, `127.0.0.1:${hostPorts[p]}`, warn))) return false
      return true
    },
    {
      timeoutMs: options.waitS * 1000,
      maxDelayMs: 1000,
      giveUp: async () => (exited = !(await inspectContainer(engine, name))?.running),
    },
  )
  if (!up) {
    const tail = await containerLogTail(engine, name, 15)
    await removeContainer(engine, name)
    throw new UserError(
      `The ${subject} server ${exited ? 'exited' : `did not answer within ${options.waitS} s`} (container removed).` +
        (tail.length > 0 ? `\nIts last lines:\n  ${tail.join('\n  ')}\n` : ''),
      {
        code: 'SERVE_FAILED',
        fix: exited
          ? `Fix ${SERVE_DOCKERFILE} or the server it runs, then serve again.`
          : 'Give it longer with --wait (emulated images start slowly), or check the server listens on the ports ' +
            'in "serve".',
      },
    )
  }
  emit({
    kind: 'done',
    subject,
    message: `${subject} answers on 127.0.0.1:${hostPorts[options.protocol]} (${options.protocol})`,
  })
}

/** Removes this FAAS_HOME's serve containers (of the named benchmarks, or all); absent ones are fine. */
export async function stopServed(
  host: ServeHost,
  benchmarks: string[],
  emit: Emit,
): Promise<Array<{container: string; benchmark: string; function: string}>> {
  const {engine} = host
  await engine.ping()
  const mine = await findContainersByLabel(engine, `${LABEL}.home=${homeId()}`)
  const chosen = mine.filter((c) => benchmarks.length === 0 || benchmarks.includes(c.labels[LABEL] ?? ''))
  const removed = []
  for (const c of chosen) {
    const benchmark = c.labels[LABEL] ?? ''
    const fn = c.labels[`${LABEL}.function`] ?? ''
    await removeContainer(engine, c.id)
    emit({kind: 'done', subject: `${benchmark}/${fn}`, message: `Removed ${containerName(benchmark, fn)}`})
    removed.push({container: containerName(benchmark, fn), benchmark, function: fn})
  }
  // The network and the S3 forwarder go with the last server of this home.
  if (chosen.length === mine.length) {
    await host.releaseStorage()
    await removeNetworkIfUnused(engine, networkName())
  }
  return removed
}
