// Fault scenarios: Ctrl-C and SIGTERM at each step of the commands that take a while (build, push, deploy, upload,
// invoke, bench): one line naming the step and how to resume, then a rerun that converges.
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {loadSettings} from '../../src/core/settings.js'
import {LocalTarget} from '../../src/targets/local.js'
import {startProxy} from '../../test/helpers/proxy.js'
import {waitFor} from '../../test/helpers/wait.js'
import {
  baseEnv,
  bump,
  busy,
  errorLine,
  faas,
  home,
  interruptScenario,
  oneLine,
  REGISTRY,
  s3Holds,
  type Scenario,
  SERVICE_PORT,
  start,
  tag,
  waitOutput,
  mapReduceRun,
} from './harness.js'

let uploading = false
export const scenarios: Scenario[] = [
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during build`,
    expected: `exit ${signal === 'SIGINT' ? 130 : 143}, a line naming the build and how to resume; the rerun builds`,
    run: () =>
      interruptScenario(signal, ['build', 'fzb', '--verbose'], /slow-step-begins/, ['build', 'fzb'], {
        before: async () => bump(),
      }),
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during push`,
    expected: 'a line naming the push; the rerun pushes; a third run skips (digest already there)',
    run: async () => {
      const t = tag(`push-${signal}`)
      const built = await faas(['build', 'fz', '--tag', t])
      if (built.code !== 0) return {pass: false, observed: `setup build failed: ${errorLine(built.err)}`}
      const [host, port] = REGISTRY.split(':')
      const proxy = await startProxy({host, port: Number(port)})
      proxy.pause()
      try {
        const outcome = await interruptScenario(
          signal,
          ['push', 'fz', '--registry', proxy.address, '--tag', t],
          () => proxy.bytesIn > 0,
          ['push', 'fz', '--registry', proxy.address, '--tag', t],
          {between: async () => proxy.resume()},
        )
        const third = await faas(['push', 'fz', '--registry', proxy.address, '--tag', t, '--json'])
        const skipped = /already|skipped|unchanged|"pushed":\s*false/i.test(third.out + third.err)
        return {
          pass: outcome.pass && third.code === 0 && skipped,
          observed:
            `${outcome.observed}; third ` +
            `run ${skipped ? 'skipped the push' : `did not say it skipped: ${oneLine(third.out, 80)}`}`,
        }
      } finally {
        await proxy.close()
      }
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during deploy (local)`,
    expected: 'a line naming the deploy; the rerun deploys; nothing half-made',
    run: async () => {
      await faas(['build', 'fz'])
      const up = await faas(['local', 'start', '--detach'])
      if (up.code !== 0) return {pass: false, observed: `setup: ${errorLine(up.err)}`}
      await faas(['destroy', 'fz', '--yes'])
      // The deploy checks its image with the engine: through a paused socket proxy it hangs there.
      const socket = join(mkdtempSync(join(tmpdir(), 'faas-faults-sock-')), 'docker.sock')
      const proxy = await startProxy({path: '/var/run/docker.sock'}, {listenPath: socket})
      proxy.pause()
      try {
        return await interruptScenario(signal, ['deploy', 'fz'], () => proxy.bytesIn > 0, ['deploy', 'fz'], {
          env: {DOCKER_HOST: `unix://${socket}`},
          between: async () => proxy.resume(),
        })
      } finally {
        await proxy.close()
      }
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal, i): Scenario => ({
    name: `${signal} during upload (faas run)`,
    expected: 'a line naming the upload; the rerun uploads only what is missing and the answer is correct',
    run: () => {
      const seed = 100 + i + Number(process.pid % 1000) * 2
      const args = mapReduceRun(96, 48, seed)
      return interruptScenario(signal, args, () => uploading, [...args, '--json'], {
        before: async () => {
          // Interrupt once the first shards are in the store, so the rerun has something to reuse.
          uploading = false
          void waitFor(`shards of seed ${seed} in the store`, () => s3Holds(`seed${seed}-`), {
            intervalMs: 200,
            timeoutMs: 600_000,
          }).then(
            () => (uploading = true),
            () => undefined,
          )
        },
        rerunCheck: (r) => {
          try {
            const record = JSON.parse(r.out)
            if (!record.correct) return 'wrong answer'
            return record.bytes.uploaded < record.bytes.input
              ? undefined
              : `uploaded everything again (${record.bytes.uploaded} of ${record.bytes.input} bytes)`
          } catch {
            return 'no record'
          }
        },
      })
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during invoke`,
    expected: 'a line naming the invocation; the rerun invokes',
    run: async () => {
      const deployed = await faas(['deploy', 'fz'])
      if (deployed.code !== 0) return {pass: false, observed: `setup: ${errorLine(deployed.err)}`}
      await faas(['invoke', '--function_name', 'fz-fn', '--payload', '{}'])
      // An earlier scenario's call may still run on the service: wait until this one is the busy one.
      await waitFor('the service to be idle', async () => !(await busy()), {intervalMs: 200})
      const r = start(['invoke', '--function_name', 'fz-fn', '--payload', '{"sleep": 20}'])
      await waitFor('the invocation to be running', busy, {intervalMs: 100})
      r.child.kill(signal)
      const code = await r.exited
      const line = /Interrupted `[^`]+` \(SIG\w+\)[^\n]*/.exec(r.err())?.[0] ?? ''
      const again = await faas(['invoke', '--function_name', 'fz-fn', '--payload', '{}'])
      return {
        pass: code === (signal === 'SIGINT' ? 130 : 143) && /To resume/.test(line) && again.code === 0,
        observed: `exit ${code}, "${oneLine(line, 100)}"; rerun exit ${again.code}`,
      }
    },
  })),
  ...(['SIGINT', 'SIGTERM'] as const).map((signal): Scenario => ({
    name: `${signal} during bench`,
    expected: 'stops sending, keeps and writes what it measured (summary interrupted: true), exit 0',
    run: async () => {
      await faas(['deploy', 'fz'])
      const out = mkdtempSync(join(tmpdir(), 'faas-faults-bench-'))
      const r = start(['bench', '-f', 'fz-fn', '--rps', '5', '--time', '120', '--out', out])
      await waitOutput(r, /[1-9]\d*\/\d+ done/, 'completed calls')
      r.child.kill(signal)
      const code = await r.exited
      const summary = existsSync(join(out, 'summary.json'))
        ? JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
        : undefined
      return {
        pass: code === 0 && summary?.interrupted === true && summary.count > 0,
        observed:
          `exit ${code}, ` +
          `summary ${summary ? `interrupted=${summary.interrupted}, ${summary.count} calls` : 'missing'}`,
      }
    },
  })),
  {
    name: 'second Ctrl-C in bench --memory',
    expected: 'quits, but first restores the memory it changed (512 MB again)',
    run: async () => {
      await faas(['deploy', 'fz'])
      // Calls that take 5 s keep bench busy after the first Ctrl-C, so the second lands before its own restore.
      const r = start([
        'bench',
        '-f',
        'fz-fn',
        '--memory',
        '256,384',
        '--rps',
        '2',
        '--time',
        '60',
        '--payload',
        '{"sleep": 5}',
        '--out',
        mkdtempSync(join(tmpdir(), 'faas-faults-bench-')),
      ])
      await waitOutput(r, /256 MB[\s\S]*[1-9]\d* in flight/, 'calls in flight at 256 MB')
      r.child.kill('SIGINT')
      await waitOutput(r, /stopping/, 'the first Ctrl-C to be taken')
      r.child.kill('SIGINT')
      const code = await r.exited
      Object.assign(process.env, {FAAS_LOCAL_PORT: SERVICE_PORT, FAAS_HOME: home})
      const target = new LocalTarget(loadSettings(baseEnv), {})
      const memory = (await target.describe('fz-fn'))?.memoryMb
      return {pass: code === 130 && memory === 512, observed: `exit ${code}, memory afterwards ${memory} MB`}
    },
  },
]
