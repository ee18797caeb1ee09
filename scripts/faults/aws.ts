// Fault scenarios: AWS answering every call with throttling, a 5xx or a connection reset: a clear error, no stack
// trace.
import {createServer as createNetServer} from 'node:net'

import {errorLine, faas, hasStack, type Outcome, type Scenario} from './harness.js'
import {awsEnv, fakeServer} from './peers.js'

async function awsFault(kind: 'throttle' | '5xx' | 'reset'): Promise<Outcome> {
  const server =
    kind === 'reset'
      ? await (async () => {
          let hits = 0
          const s = createNetServer((socket) => {
            hits++
            socket.once('data', () => socket.resetAndDestroy())
          })
          await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
          return {
            url: `http://127.0.0.1:${(s.address() as {port: number}).port}`,
            hits: () => hits,
            close: () => new Promise<void>((resolve) => s.close(() => resolve())),
          }
        })()
      : await fakeServer((req, res) => {
          const status = kind === 'throttle' ? 429 : 503
          const code = kind === 'throttle' ? 'ThrottlingException' : 'ServiceUnavailableException'
          res
            .writeHead(status, {
              'content-type': 'application/json',
              'x-amzn-errortype': code,
              'x-amzn-requestid': 'fault',
            })
            .end(JSON.stringify({__type: code, message: `injected ${code}`, Message: `injected ${code}`}))
        })
  try {
    const calls: Array<[string, string[]]> = [
      ['invoke', ['invoke', '--function_name', 'fz-fn', '--payload', '{}']],
      ['deploy', ['deploy', '--function_name', 'fz-fn', '--repo_name', 'fz-fn']],
      ['destroy', ['destroy', '--function_name', 'fz-fn']],
      ['bench', ['bench', '-f', 'fz-fn', '--rps', '1', '--time', '1']],
      ['login', ['login']],
    ]
    const results: string[] = []
    let pass = true
    for (const [name, args] of calls) {
      const r = await faas(args, awsEnv(server.url))
      // bench may instead finish and record each failed call as an error, which is what it is for.
      const recorded = name === 'bench' && r.code === 0 && /[1-9]\d* errors/.test(r.err)
      const clear =
        recorded || (r.code !== 0 && /Error: /.test(r.err) && !hasStack(r.err) && !/TypeError|undefined/.test(r.err))
      pass &&= clear
      results.push(`${name} exit ${r.code}${clear ? '' : ` UNCLEAR: ${errorLine(r.err)}`}`)
      if (name === 'invoke') results.push(`"${errorLine(r.err).slice(0, 90)}"`)
    }
    return {pass, observed: `${results.join(', ')}; ${server.hits()} requests`}
  } finally {
    await server.close()
  }
}

export const scenarios: Scenario[] = [
  {
    name: 'AWS throttling on every call',
    expected: 'each command fails with one clear paragraph, bounded retries, no stack',
    run: () => awsFault('throttle'),
  },
  {
    name: 'AWS 5xx on every call',
    expected: 'each command fails with one clear paragraph, no stack',
    run: () => awsFault('5xx'),
  },
  {
    name: 'AWS connection reset on every call',
    expected: 'each command fails with one clear paragraph, no stack',
    run: () => awsFault('reset'),
  },
]
