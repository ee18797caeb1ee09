// Fault scenarios: Two faas processes at once on the same thing: runs, deploys of a new function, service starts.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {errorLine, faas, hasStack, health, home, S3_PORT, type Scenario, mapReduceRun} from './harness.js'

export const scenarios: Scenario[] = [
  {
    name: 'two faas run at once',
    expected:
      "both complete with correct answers; the state file is valid JSON; neither removed the other's containers",
    run: async () => {
      const args = (seed: number) => [...mapReduceRun(2, 8, seed), '--json']
      // Cold: both race to start the S3 store and the service.
      await faas(['local', 'stop'])
      const [a, b] = await Promise.all([faas(args(11)), faas(args(12))])
      const ok = (r: typeof a) => {
        try {
          return JSON.parse(r.out).correct === true
        } catch {
          return false
        }
      }
      let state = 'valid'
      try {
        JSON.parse(readFileSync(join(home, 'local', 'service.json'), 'utf8'))
      } catch (error) {
        state = `invalid (${(error as Error).message})`
      }
      return {
        pass: a.code === 0 && b.code === 0 && ok(a) && ok(b) && state === 'valid',
        observed:
          `exits ${a.code}/${b.code}, correct ${ok(a)}/${ok(b)}, state ` +
          `file ${state}${a.code ? `; ${errorLine(a.err)}` : ''}${b.code ? `; ${errorLine(b.err)}` : ''}`,
      }
    },
  },
  {
    name: 'two deploys of a new function racing',
    expected: 'both succeed: one creates, the other converges (updated/unchanged), no "update in progress" error',
    run: async () => {
      await faas(['local', 'start', '--detach'])
      await faas(['destroy', 'fz', '--yes'])
      const [a, b] = await Promise.all([faas(['deploy', 'fz', '--json']), faas(['deploy', 'fz', '--json'])])
      const action = (r: typeof a) => {
        try {
          return JSON.parse(r.out).functions[0].action as string
        } catch {
          return `none (${errorLine(r.err)})`
        }
      }
      const actions = [action(a), action(b)].sort()
      return {
        pass: a.code === 0 && b.code === 0 && actions[0] === 'created',
        observed: `exits ${a.code}/${b.code}, actions ${actions.join('/')}`,
      }
    },
  },
  {
    name: 'a service already running without the S3 store',
    expected: 'faas run restarts it with the local store (never real S3) and the answer is correct',
    run: async () => {
      await faas(['local', 'stop'])
      const started = await faas(['local', 'start', '--detach'])
      const before = await health()
      const r = await faas(['run', 'map-reduce', '--input-mb', '1', '--shards', '4', '--seed', '31', '--json'])
      const after = await health()
      let correct = false
      try {
        correct = JSON.parse(r.out).correct === true
      } catch {}
      const local = after?.s3Endpoint === `http://127.0.0.1:${S3_PORT}`
      return {
        pass: started.code === 0 && before?.s3Endpoint === undefined && r.code === 0 && correct && local,
        observed:
          `before: s3 ${before?.s3Endpoint ?? 'none'}; run exit ${r.code}, correct ${correct}; after: ` +
          `s3 ${after?.s3Endpoint}${/restarting/.test(r.err) ? ' (said it restarted)' : ''}`,
      }
    },
  },
  {
    name: 'two faas local start at once',
    expected:
      'one service; both commands succeed (the second finds the first) or one says the port is taken; state file valid',
    run: async () => {
      await faas(['local', 'stop'])
      const [a, b] = await Promise.all([
        faas(['local', 'start', '--detach', '--json']),
        faas(['local', 'start', '--detach', '--json']),
      ])
      const pids = [a, b].map((r) => {
        try {
          return JSON.parse(r.out).pid
        } catch {
          return undefined
        }
      })
      const running = await health()
      let state = 'valid'
      try {
        JSON.parse(readFileSync(join(home, 'local', 'service.json'), 'utf8'))
      } catch (error) {
        state = `invalid (${(error as Error).message})`
      }
      const clear = (r: typeof a) => r.code === 0 || (/port|already/i.test(r.err) && !hasStack(r.err))
      return {
        pass:
          clear(a) &&
          clear(b) &&
          (a.code === 0 || b.code === 0) &&
          Boolean(running) &&
          state === 'valid' &&
          pids.filter(Boolean).every((p) => p === running?.pid),
        observed:
          `exits ${a.code}/${b.code}, pids ${pids.join('/')}, running ${running?.pid}, ` +
          `state ${state}${a.code ? `; ${errorLine(a.err)}` : ''}${b.code ? `; ${errorLine(b.err)}` : ''}`,
      }
    },
  },
]
