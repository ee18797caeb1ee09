import type {Settings} from '../../core/settings.js'
import {checkFunctionsExist} from '../bench.js'
import type {Reconfigurer} from '../reconfigure.js'
import {benchTarget} from '../targets.js'
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
  options: {target: 'aws' | 'local'; settings: Settings; reconfigure: boolean; maxInFlight: number; timeoutS: number},
): Promise<ProtocolBench> {
  const timeoutMs = options.timeoutS * 1000
  if (protocol === 'http') return {invoker: httpProtocol({maxSockets: options.maxInFlight, timeoutMs})}
  if (protocol === 'grpc') return {invoker: await (await import('./grpc.js')).grpcProtocol({timeoutMs})}
  const {invoke, reconfigurer, architecture} = benchTarget(options.target, options.settings, {reconfigure: options.reconfigure})
  return {
    invoker: {protocol: 'lambda', invoke, check: (functions) => checkFunctionsExist(invoke, functions), close: () => {}},
    reconfigurer,
    architecture,
  }
}
