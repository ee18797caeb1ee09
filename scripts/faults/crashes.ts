// Fault scenarios: a peer gone mid-command: the local service SIGKILLed, the Docker engine, the local S3 store.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {startProxy, type Proxy} from '../../test/helpers/proxy.js'
import {waitFor} from '../../test/helpers/wait.js'
import {
  bump,
  busy,
  docker,
  errorLine,
  faas,
  hasStack,
  health,
  S3_PORT,
  type Scenario,
  serviceContainers,
  start,
  waitOutput,
  mapReduceRun,
} from './harness.js'

export const scenarios: Scenario[] = [
  {
    name: 'local service SIGKILLed mid-invocation',
    expected:
      "the caller's error names the local service; its containers go; the next command starts a fresh service " +
      'that works',
    run: async () => {
      await faas(['deploy', 'fz'])
      const before = await health()
      if (!before) return {pass: false, observed: 'setup: no service'}
      await waitFor('the service to be idle', async () => !(await busy()), {intervalMs: 200})
      const r = start(['invoke', '--function_name', 'fz-fn', '--payload', '{"sleep": 20}'])
      await waitFor('the invocation to be running', busy, {intervalMs: 100})
      process.kill(before.pid, 'SIGKILL')
      const code = await r.exited
      const message = errorLine(r.err())
      const next = await faas(['deploy', 'fz'])
      const again = await faas(['invoke', '--function_name', 'fz-fn', '--payload', '{}'])
      const after = await health()
      const left = await serviceContainers(before.id)
      const names = /local (Lambda )?service/i.test(message) && !/Cannot reach AWS/i.test(message)
      return {
        pass:
          code !== 0 &&
          names &&
          !hasStack(r.err()) &&
          next.code === 0 &&
          again.code === 0 &&
          after?.pid !== before.pid &&
          left.length === 0,
        observed:
          `exit ${code}, "${message.slice(0, 100)}"; next deploy+invoke exit ${next.code}/${again.code}, ` +
          `new pid ${after?.pid !== before.pid}, ${left.length} old containers left`,
      }
    },
  },
  {
    name: 'Docker engine gone mid-build',
    expected: 'an error naming the Docker engine, no stack; the rerun with the engine back builds',
    run: async () => {
      bump()
      const socket = join(mkdtempSync(join(tmpdir(), 'faas-faults-sock-')), 'docker.sock')
      let proxy: Proxy | undefined = await startProxy({path: '/var/run/docker.sock'}, {listenPath: socket})
      const env = {DOCKER_HOST: `unix://${socket}`}
      const r = start(['build', 'fzb', '--verbose'], env)
      await waitOutput(r, /slow-step-begins/, 'the slow build step')
      await proxy.close()
      const code = await r.exited
      proxy = await startProxy({path: '/var/run/docker.sock'}, {listenPath: socket})
      const again = await faas(['build', 'fzb'], env)
      await proxy.close()
      const message = errorLine(r.err())
      return {
        pass: code !== 0 && /Docker|engine/i.test(message) && !hasStack(r.err()) && again.code === 0,
        observed: `exit ${code}, "${message.slice(0, 110)}"; rerun exit ${again.code}`,
      }
    },
  },
  {
    name: 'local S3 store gone mid-run',
    expected: 'the run fails naming the S3 store; the rerun starts a new store and completes',
    run: async () => {
      const args = mapReduceRun(2, 8, 7000 + (process.pid % 1000))
      const r = start(args)
      await waitOutput(r, /Invok/, 'the invoke phase')
      await docker('rm', '-f', `faas-local-s3-${S3_PORT}`)
      const code = await r.exited
      const again = await faas([...args, '--json'])
      let correct = false
      try {
        correct = JSON.parse(again.out).correct === true
      } catch {}
      const message = errorLine(r.err())
      return {
        pass: code !== 0 && /S3/i.test(message) && !hasStack(r.err()) && again.code === 0 && correct,
        observed: `exit ${code}, "${message.slice(0, 110)}"; rerun exit ${again.code}, correct ${correct}`,
      }
    },
  },
]
