/**
 * Start-up of the faas binary as a user meets it (figures printed, never asserted): wall time of
 * whole processes, side by side in one run, against node's own start-up. With hyperfine on PATH
 * (Debian: apt-get install hyperfine) it also shows the CPU each process used, which a busy machine
 * does not inflate the way it inflates wall time.
 *   node --import tsx scripts/perf/startup.ts [runs per command, default 10]
 * Goals (issue 13): --version and help ≤ 0.3 s; a no-op deploy of map-reduce's three functions
 * against the AWS emulator (moto, a private one started here) ≤ 0.8 s.
 * Smoke mode (FAAS_PERF_SMOKE=1): 1 run per command.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {freePort} from '../../test/helpers/net.js'
import {seedMapReduceImages, startMoto} from './lib/moto.js'
import {sized} from './lib/smoke.js'

const runs = Number(process.argv[2] ?? sized(10, 1))
const bin = join(PROJECT_ROOT, 'bin', 'run.js')
const home = mkdtempSync(join(tmpdir(), 'faas-startup-'))
const moto = await startMoto()
// Nothing inherited points faas elsewhere: its own home, a port nothing listens on, the private moto.
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  FAAS_HOME: home,
  FAAS_LOCAL_PORT: String(await freePort()),
  FORCE_COLOR: '0',
  ...moto.env,
}

function run(args: string[]): {ms: number; status: number | null; stdout: string; stderr: string} {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, args, {env, encoding: 'utf8'})
  return {ms: performance.now() - t0, status: r.status, stdout: r.stdout, stderr: r.stderr}
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

try {
  await seedMapReduceImages(moto, 'v1')
  const deployArgs = [bin, 'deploy', 'map-reduce', '--target', 'aws', '--repo_tag', 'v1']
  const first = run(deployArgs)
  if (first.status !== 0)
    throw new Error(`the first deploy failed (exit ${first.status}):\n${first.stdout}\n${first.stderr}`)
  console.log(
    `faas start-up, whole processes, ${runs} runs each after one warm-up (node ${process.version}; the first deploy ` +
      `took ${(first.ms / 1000).toFixed(2)} s)`,
  )
  console.log('command                                             median s    min s    max s    CPU s  notes')
  const cases: Array<[string, string[], number | undefined]> = [
    ['node -e 0 (node itself)', ['-e', '0'], undefined],
    ['faas --version', [bin, '--version'], 0.3],
    ['faas --help', [bin, '--help'], 0.3],
    ['faas deploy --help', [bin, 'deploy', '--help'], 0.3],
    ['faas local status (no service)', [bin, 'local', 'status'], undefined],
    ['faas deploy map-reduce --target aws (no-op)', deployArgs, 0.8],
  ]
  const hyperfine = spawnSync('hyperfine', ['--version']).status === 0
  if (!hyperfine) console.log('hyperfine left out (not on PATH): wall times only, no CPU column')
  for (const [label, args, goalS] of cases) {
    const last = run(args)
    let times: number[]
    let cpuS: number | undefined
    if (hyperfine) {
      const out = join(home, 'hyperfine.json')
      const command = [process.execPath, ...args].map((a) => `'${a}'`).join(' ')
      const r = spawnSync('hyperfine', ['-N', '--warmup', '1', '--runs', String(runs), '--export-json', out, command], {
        env,
        encoding: 'utf8',
      })
      if (r.status !== 0) throw new Error(`hyperfine failed: ${r.stderr}`)
      const result = JSON.parse(readFileSync(out, 'utf8')).results[0] as {times: number[]; user: number; system: number}
      times = result.times
      cpuS = result.user + result.system
    } else {
      run(args)
      times = Array.from({length: runs}, () => run(args).ms / 1000)
    }
    const notes = [
      goalS === undefined ? '' : `goal ≤ ${goalS} s ${median(times) <= goalS ? 'met' : 'MISSED'}`,
      last.status === 0 ? '' : `exit ${last.status}`,
      /NodeVersionSupportWarning|DeprecationWarning/.test(last.stderr) ? 'warning printed' : '',
      label.includes('no-op') && !/unchanged/.test(last.stdout) ? `not a no-op: ${last.stdout.trim()}` : '',
    ].filter(Boolean)
    console.log(
      `${label.padEnd(48)} ${median(times).toFixed(3).padStart(9)} ${Math.min(...times)
        .toFixed(3)
        .padStart(8)} ${Math.max(...times)
        .toFixed(3)
        .padStart(8)} ${cpuS === undefined ? '       -' : cpuS.toFixed(3).padStart(8)}  ${notes.join('; ')}`,
    )
  }
  console.log(
    `load average while measuring: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (${(await import('node:os')).availableParallelism()} cores)`,
  )
} finally {
  await moto.stop()
  rmSync(home, {recursive: true, force: true})
}
