/**
 * bench --workers figures (issue 23): 4 load-generator workers on the local target driving a trivial function
 * (trace-function with 1 ms), through the built CLI. Prints the achieved rate against the requested one, the
 * merged send lateness after the clock correction, and each worker's clock offset and rate. The local S3 store is
 * a private moto on a free port. FAAS_PERF_SMOKE=1: 20 rps for 3 s (well under 40 s with the images built).
 *
 *   node --import tsx scripts/perf/workers.ts [--rps 100] [--warmup 5]
 */
import {execa} from 'execa'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {freePort} from '../../test/helpers/net.js'
import {SMOKE} from './lib/smoke.js'

const MOTO = process.env.FAAS_MOTO_SERVER ?? '/var/lib/faas-stack/venv/bin/moto_server'
const WORKERS = 4
const TIME_S = SMOKE ? 3 : 20
// The warm-up's first calls start about 16 of the target's environments at once (each arrival while all are
// still initialising starts another, as on Lambda); on 2 cores those starts and the pool refilling behind them
// take some 3.5 s, and the workers sharing the cores are late until they settle. The measured window begins after.
const {values} = parseArgs({
  options: {
    rps: {type: 'string', default: SMOKE ? '20' : '100'},
    warmup: {type: 'string', default: SMOKE ? '1' : '5'},
  },
})
const RPS = Number(values.rps)
const WARMUP_S = Number(values.warmup)

const home = process.env.FAAS_HOME ?? mkdtempSync(join(tmpdir(), 'faas-perf-workers-'))
const out = mkdtempSync(join(tmpdir(), 'faas-perf-workers-out-'))
const s3Port = process.env.FAAS_LOCAL_S3_PORT ?? String(await freePort())
const platform = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64'
const env = {
  ...process.env,
  FAAS_HOME: home,
  FAAS_LOCAL_PORT: process.env.FAAS_LOCAL_PORT ?? String(await freePort()),
  FAAS_LOCAL_S3_PORT: s3Port,
  FAAS_LOCAL_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
  FAAS_TARGET: 'local',
  FAAS_PLATFORM: platform,
  FORCE_COLOR: '0',
}
const faas = (args: string[]) => execa(process.execPath, [join(PROJECT_ROOT, 'bin', 'run.js'), ...args], {env})

const moto = execa(MOTO, ['-H', '127.0.0.1', '-p', s3Port], {reject: false, stdio: 'ignore'})
try {
  const deadline = Date.now() + 30_000
  while (
    !(await fetch(`http://127.0.0.1:${s3Port}/`).then(
      () => true,
      () => false,
    ))
  ) {
    if (moto.exitCode !== null || Date.now() > deadline) throw new Error(`moto did not start on port ${s3Port}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  for (const benchmark of ['load-generator', 'trace-function'])
    await faas(['build', benchmark, '--platform', platform, '--base-image', 'local'])
  await faas(['deploy', '-f', 'perf-tiny', '-n', 'trace-function-spin', '--memory', '128'])
  const args = ['-f', 'perf-tiny', '-p', '{"ms":1}', '--rps', String(RPS), '--time', String(TIME_S)]
  const flags = ['--warmup', String(WARMUP_S), '--workers', String(WORKERS), '-o', out, '--json']
  const run = await faas(['bench', ...args, ...flags])
  const {summary} = JSON.parse(run.stdout) as {
    summary: {
      count: number
      errors: number
      dropped: number
      achievedRps: number
      requestedRps: number
      latenessUs: {p50: number; p99: number}
      workers: Array<{worker: number; clockOffsetUs: number; clockRttUs: number; achievedRps: number}>
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(2)
  const off = ((summary.achievedRps / summary.requestedRps - 1) * 100).toFixed(2)
  console.log(
    `${WORKERS} workers, requested ${summary.requestedRps} rps for ${TIME_S} s: achieved ` +
      `${summary.achievedRps.toFixed(2)} rps (${off} %), ${summary.count} calls, ${summary.errors} errors, ` +
      `${summary.dropped} dropped`,
  )
  console.log(
    `merged lateness (clock-corrected): p50 ${ms(summary.latenessUs.p50)} ms  p99 ${ms(summary.latenessUs.p99)} ms`,
  )
  for (const w of summary.workers)
    console.log(
      `  worker ${w.worker}: offset ${ms(w.clockOffsetUs)} ms (rtt ${ms(w.clockRttUs)} ms), ` +
        `${w.achievedRps.toFixed(2)} rps`,
    )
} finally {
  await faas(['local', 'stop']).catch(() => undefined)
  moto.kill()
  await moto
  rmSync(out, {recursive: true, force: true})
  if (!process.env.FAAS_HOME) rmSync(home, {recursive: true, force: true})
}
