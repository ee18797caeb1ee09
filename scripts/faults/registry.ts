// Fault scenarios: a registry that fails uploads (503) or resets the connection mid-push.
import {startProxy} from '../../test/helpers/proxy.js'
import {errorLine, faas, hasStack, REGISTRY, type Scenario, tag} from './harness.js'
import {failingRegistry} from './peers.js'

export const scenarios: Scenario[] = [
  {
    name: 'registry answers 503 to uploads',
    expected: 'an error naming the registry; the rerun against the healthy registry pushes',
    run: async () => {
      const t = tag('push503')
      await faas(['build', 'fz', '--tag', t])
      const bad = await failingRegistry()
      try {
        const r = await faas(['push', 'fz', '--registry', bad.address, '--tag', t])
        const again = await faas(['push', 'fz', '--registry', REGISTRY, '--tag', t])
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && message.includes(bad.address) && !hasStack(r.err) && again.code === 0,
          observed: `exit ${r.code}, "${message.slice(0, 110)}"; rerun exit ${again.code}`,
        }
      } finally {
        await bad.close()
      }
    },
  },
  {
    name: 'registry resets the connection mid-push',
    expected: 'an error naming the registry; the rerun pushes',
    run: async () => {
      const t = tag('pushreset')
      await faas(['build', 'fz', '--tag', t])
      const [host, port] = REGISTRY.split(':')
      let armed = true
      // Reset the first upload (a blob PATCH/PUT or the manifest PUT) as it starts.
      const proxy = await startProxy(
        {host, port: Number(port)},
        {
          onData: (_, chunk) =>
            armed && /^(PATCH|PUT) /.test(chunk.subarray(0, 8).toString('latin1')) ? 'reset' : 'pass',
        },
      )
      try {
        const r = await faas(['push', 'fz', '--registry', proxy.address, '--tag', t])
        armed = false
        const again = await faas(['push', 'fz', '--registry', proxy.address, '--tag', t])
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && message.includes(proxy.address) && !hasStack(r.err) && again.code === 0,
          observed: `exit ${r.code}, "${message.slice(0, 110)}"; rerun exit ${again.code}`,
        }
      } finally {
        await proxy.close()
      }
    },
  },
]
