/**
 * A detached loopback forwarder (`faas serve`'s S3 bridge: served containers outlive the command).
 * Arguments: <host> <listen port> <target port on 127.0.0.1>. Stops on SIGTERM.
 */
import {forwardToLoopback} from './loopback-forwarder.js'

const [host, listenPort, targetPort] = process.argv.slice(2)
const forwarder = await forwardToLoopback(host!, Number(targetPort), Number(listenPort))
const stop = () => void forwarder.close().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
