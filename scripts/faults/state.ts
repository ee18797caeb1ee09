// Fault scenarios: a taken port and truncated state files: each refused by name, with the fix.
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {errorLine, faas, hasStack, REGISTRY, type Scenario, SERVICE_PORT} from './harness.js'
import {fakeServer} from './peers.js'

export const scenarios: Scenario[] = [
  {
    name: 'service port already in use',
    expected: 'one paragraph saying something else answers on the port and how to choose another',
    run: async () => {
      const squatter = await fakeServer((_, res) => res.writeHead(404).end('not faas'))
      try {
        const port = new URL(squatter.url).port
        const r = await faas(['local', 'start', '--detach'], {
          FAAS_LOCAL_PORT: port,
          FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-faults-home-')),
        })
        const message = errorLine(r.err)
        return {
          pass:
            r.code !== 0 &&
            message.includes(port) &&
            /in use|taken|another|cannot prove/i.test(message) &&
            !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 130)}"`,
        }
      } finally {
        await squatter.close()
      }
    },
  },
  {
    name: 'truncated registries.json',
    expected: 'reported by name, not wiped',
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faas-faults-home-'))
      writeFileSync(join(dir, 'registries.json'), '{"a": {"registry": "a", "user')
      const r = await faas(
        ['login', '--registry', REGISTRY, '--username', 'u', '--password-stdin'],
        {FAAS_HOME: dir},
        'p',
      )
      const intact = readFileSync(join(dir, 'registries.json'), 'utf8') === '{"a": {"registry": "a", "user'
      const message = errorLine(r.err)
      return {
        pass: r.code !== 0 && /registries\.json.*not valid JSON/.test(message) && intact,
        observed: `exit ${r.code}, "${message.slice(0, 110)}", file intact ${intact}`,
      }
    },
  },
  {
    name: 'truncated local service state file',
    expected: 'reported by name with the fix, not silently replaced',
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faas-faults-home-'))
      mkdirSync(join(dir, 'local'))
      writeFileSync(join(dir, 'local', 'service.json'), '{"pid": 12')
      const r = await faas(['local', 'status'], {FAAS_HOME: dir, FAAS_LOCAL_PORT: String(Number(SERVICE_PORT) + 11)})
      const message = errorLine(r.err)
      return {
        pass: r.code !== 0 && /service\.json.*not valid JSON.*rm /s.test(r.err),
        observed: `exit ${r.code}, "${message.slice(0, 110)}"`,
      }
    },
  },
]
