import type {RunSpec} from '../docker/containers.js'
import {FUNCTION_LABEL, LABEL, PID_LABEL, PIDNS_LABEL, PORT_LABEL, pidNamespace} from './contracts.js'
import type {LocalFunction, ServiceOptions} from './types.js'

/**
 * What an environment's container is, decided without the engine: its variables (which of them
 * stay out of `docker inspect`), its limits, its isolation and its labels. Pure, so the contract
 * with Lambda (memory, CPU, read-only root, /tmp, network, capabilities) is tested without Docker.
 */

/** Capabilities a function never needs (raw sockets first: no spoofing on the functions' network). */
export const DROPPED_CAPABILITIES = [
  'NET_RAW',
  'MKNOD',
  'AUDIT_WRITE',
  'SYS_CHROOT',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
]

/** Where the hidden variables' file is mounted in the container. */
export const ENV_FILE = '/run/faas.env'

/** Read once: the namespace cannot change under a running process. */
const PID_NAMESPACE = pidNamespace()

/**
 * Docker's CPU share for a memory size: 1,769 MB = 1 vCPU, floored, times `factor` (emulation), capped at the host's
 * cores.
 */
export function cpuShare(memoryMb: number, floor: number, hostCpus: number, factor = 1): number {
  return Math.min(hostCpus, Math.max(floor, memoryMb / 1769) * factor)
}

/** An image of another architecture than the host's runs under qemu emulation. */
export function emulation(fn: LocalFunction, options: ServiceOptions): {image: string; host: string} | undefined {
  const image = fn.imageArchitecture
  return image && image !== options.hostArchitecture ? {image, host: options.hostArchitecture} : undefined
}

/** CPU for an environment, in nano-CPUs: the memory's share, times the emulation factor when emulated. */
export function nanoCpus(fn: LocalFunction, options: ServiceOptions): number {
  const factor = emulation(fn, options) ? options.emulationCpuFactor : 1
  return cpuShare(fn.memoryMb, options.cpuFloor, options.hostCpus, factor) * 1e9
}

/**
 * The variables Lambda sets, after the function's own (reserved names win, as on Lambda). No AWS
 * keys: the SDK in the function gets session credentials from the container-credentials
 * endpoint with the environment's token, as a Lambda function gets its role's.
 */
export function lambdaEnv(
  fn: LocalFunction,
  options: ServiceOptions,
  runtimePort: number,
  logStream: string,
  credentialsToken?: string,
): Record<string, string> {
  const handler = fn.command?.join(' ') ?? ''
  const runtimeHost = options.network?.gateway ?? '127.0.0.1'
  const serviceUrl = options.grants?.serviceUrl ?? `http://127.0.0.1:${options.port}`
  const s3Endpoint = options.functionS3Endpoint ?? options.s3Endpoint
  return {
    ...fn.env,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: fn.version ?? '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: fn.initializationType ?? 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStream,
    AWS_LAMBDA_RUNTIME_API: `${runtimeHost}:${runtimePort}`,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_Image',
    ...(handler ? {_HANDLER: handler} : {}),
    ...(fn.logFormat === 'JSON' ? {AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'INFO'} : {}),
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    AWS_ENDPOINT_URL_LAMBDA: serviceUrl,
    // The local store's moto answers S3, DynamoDB and SQS on one endpoint.
    ...(s3Endpoint
      ? {AWS_ENDPOINT_URL_S3: s3Endpoint, AWS_ENDPOINT_URL_DYNAMODB: s3Endpoint, AWS_ENDPOINT_URL_SQS: s3Endpoint}
      : {}),
    ...(credentialsToken
      ? {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${serviceUrl}/faas/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: credentialsToken,
        }
      : {}),
  }
}

/**
 * The variables that may hold secrets (the function's own, the credentials token) are kept out
 * of the container's configuration, so `docker inspect` shows only Lambda's public ones.
 */
export function hiddenEnv(
  fn: LocalFunction,
  env: Record<string, string>,
): {visible: Record<string, string>; hidden: Record<string, string>} {
  const reserved = new Set(Object.keys(lambdaEnv({...fn, env: {}}, {} as ServiceOptions, 0, '')))
  const visible: Record<string, string> = {}
  const hidden: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    const secret = key === 'AWS_CONTAINER_AUTHORIZATION_TOKEN' || (key in fn.env && !reserved.has(key))
    ;(secret && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? hidden : visible)[key] = value
  }
  return {visible, hidden}
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`

/** The hidden variables as the file a /bin/sh wrapper sources (0600, mounted read-only at ENV_FILE). */
export const envFileText = (hidden: Record<string, string>): string =>
  Object.entries(hidden)
    .map(([k, v]) => `${k}=${shellQuote(v)}\n`)
    .join('')

/** The wrapper that sources ENV_FILE, then execs the image's own entry point and command. */
export function sourcingEntrypoint(original: string[]): {entrypoint: string[]; cmd: string[]} {
  return {entrypoint: ['/bin/sh', '-c', `set -a; . ${ENV_FILE}; set +a; exec "$@"`, 'faas-env'], cmd: original}
}

/** The labels all the service's containers carry: whose they are, and what proves its service gone (leftovers.ts). */
export function serviceLabels(options: Pick<ServiceOptions, 'instanceId' | 'port'>): Record<string, string> {
  return {
    [LABEL]: options.instanceId,
    [PID_LABEL]: String(process.pid),
    // With the pid: where it means something, and where the service answers (leftover cleanup proves both gone).
    [PIDNS_LABEL]: PID_NAMESPACE,
    [PORT_LABEL]: String(options.port),
  }
}

/** The labels every environment carries: the service's, and its function's name. */
export const containerLabels = (fn: LocalFunction, options: ServiceOptions): Record<string, string> => ({
  ...serviceLabels(options),
  [FUNCTION_LABEL]: fn.name,
})

/** How the container runs the image: its entry point, command, visible variables and extra read-only binds. */
export interface Launch {
  entrypoint?: string[]
  cmd?: string[]
  env: Record<string, string>
  binds?: string[]
}

/** The environment's container: the unmodified image, limited and isolated as a Lambda sandbox. */
export function containerSpec(fn: LocalFunction, options: ServiceOptions, launch: Launch): RunSpec {
  const tmpSize = fn.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_MB
  return {
    image: fn.imageUri,
    cmd: launch.cmd,
    entrypoint: launch.entrypoint,
    env: launch.env,
    labels: containerLabels(fn, options),
    memoryMb: fn.memoryMb,
    nanoCpus: nanoCpus(fn, options),
    binds: [...(options.binds ?? []), ...(launch.binds ?? [])],
    network: options.network?.name,
    capDrop: DROPPED_CAPABILITIES,
    securityOpt: ['no-new-privileges'],
    // Lambda's filesystem: read-only but /tmp, sized by the function's ephemeral storage. A tmpfs here; the sandbox
    // puts a disk of the same size in its place where it can (withTmpDisk), as /tmp on Lambda is not memory.
    readOnlyRootfs: true,
    tmpfs: {'/tmp': `rw,exec,nosuid,nodev,size=${tmpSize}m,mode=1777`},
  }
}

/** Lambda's default ephemeral storage (/tmp) in MB. */
export const DEFAULT_EPHEMERAL_MB = 512

/** The size of the spec's /tmp in MB (its tmpfs's `size=`), or undefined when it has none. */
export function tmpSizeMb(spec: RunSpec): number | undefined {
  const size = /(?:^|,)size=(\d+)m(?:,|$)/.exec(spec.tmpfs?.['/tmp'] ?? '')?.[1]
  return size ? Number(size) : undefined
}

/** The spec with a disk volume at /tmp instead of its tmpfs (empty: nothing of the image's /tmp copied in). */
export function withTmpDisk(spec: RunSpec, volume: string): RunSpec {
  const {'/tmp': _memory, ...tmpfs} = spec.tmpfs ?? {}
  return {...spec, tmpfs, binds: [...(spec.binds ?? []), `${volume}:/tmp:nocopy`]}
}
