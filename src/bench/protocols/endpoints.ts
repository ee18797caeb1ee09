import {UserError} from '../../core/errors.js'

/** How a bench reaches its endpoints: the Lambda Invoke API, Knative-style HTTP, or vSwarm-style gRPC. */
export type Protocol = 'lambda' | 'http' | 'grpc'

export const PROTOCOLS: readonly Protocol[] = ['lambda', 'http', 'grpc']

/** The port an endpoint without one is called on: vSwarm's invoker -port (50051), Knative's ingress (80). */
export const DEFAULT_PORT: Record<Exclude<Protocol, 'lambda'>, number> = {grpc: 50051, http: 80}

export function checkProtocol(value: string): Protocol {
  if ((PROTOCOLS as readonly string[]).includes(value)) return value as Protocol
  throw new UserError(`Unknown protocol "${value}".`, {
    code: 'BAD_PROTOCOL',
    fix:
      'Use --protocol lambda (the Lambda Invoke API, the default), http (POST to Knative/vHive-style servers) ' +
      'or grpc (vSwarm helloworld.Greeter/SayHello servers).',
  })
}

// A DNS name (Knative hosts like chameleon.default.example.com), an IPv4 address or a bracketed IPv6 one.
const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/

/**
 * An endpoints-file hostname for a network protocol, `host[:port]`, as `host:port` (the port
 * defaulting as vSwarm's invoker does with -port). Throws a plain Error saying what is wrong.
 */
export function networkAddress(hostname: string, defaultPort: number): string {
  const match = /^(\[[^\]]*\]|[^:]+)(?::(\d+))?$/.exec(hostname)
  if (!match || !HOST.test(match[1]!))
    throw new Error(`"${hostname}" is not host[:port] (e.g. 127.0.0.1:50051 or chameleon.default.example.com)`)
  const port = match[2] === undefined ? defaultPort : Number(match[2])
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`"${hostname}" has port ${match[2]}, outside 1–65535`)
  return `${match[1]}:${port}`
}

/** `host:port` into its parts (brackets of an IPv6 host removed). */
export function splitAddress(address: string): {host: string; port: number} {
  const at = address.lastIndexOf(':')
  return {host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1))}
}
