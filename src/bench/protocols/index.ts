import type {Invoke} from '../../core/invoke.js'
import type {Target} from '../../targets/target.js'
import {checkFunctionsExist} from '../check-functions.js'
import type {MixRequest} from '../mix.js'
import {reconfigurerOf, type Reconfigurer} from '../reconfigure.js'
import {type Protocol} from './endpoints.js'
import {httpProtocol} from './http.js'
import type {ProtocolInvoker} from './invoker.js'

export {checkProtocol, DEFAULT_PORT, networkAddress, PROTOCOLS, type Protocol} from './endpoints.js'
export type {ProtocolInvoker} from './invoker.js'

export interface ProtocolBench {
  invoker: ProtocolInvoker
  /** Lambda only: changes memory or env for sweeps and cold starts. */
  reconfigurer?: Reconfigurer
  /** Lambda only: a function's Architectures, for the cost estimate. */
  architecture?: (name: string) => Promise<'arm64' | 'x86_64' | undefined>
}

/** The invoker of a protocol; the gRPC client libraries are loaded only when grpc is asked for. */
export async function benchProtocol(
  protocol: Protocol,
  options: {
    target: () => Promise<Target>
    reconfigure: boolean
    maxInFlight: number
    timeoutS: number
    mix?: MixRequest[]
  },
): Promise<ProtocolBench> {
  const timeoutMs = options.timeoutS * 1000
  if (protocol === 'http')
    return {invoker: httpProtocol({maxSockets: options.maxInFlight, timeoutMs, mix: options.mix})}
  if (protocol === 'grpc') return {invoker: await (await import('./grpc.js')).grpcProtocol({timeoutMs})}
  // The Lambda Invoke API: whatever the target is, only through the Target interface.
  const target = await options.target()
  const invoke: Invoke = (request) => target.invoke(request)
  return {
    invoker: {
      protocol: 'lambda',
      invoke,
      check: (functions) => checkFunctionsExist(invoke, functions),
      close: () => {},
    },
    reconfigurer: options.reconfigure ? reconfigurerOf(target) : undefined,
    architecture: async (name) => (await target.describe(name))?.architectures[0] as 'arm64' | 'x86_64' | undefined,
  }
}
