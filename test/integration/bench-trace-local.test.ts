import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {faas, faasJson} from '../helpers/cli.js'

/**
 * A tiny trace replayed on the local target through the built CLI: trace-function built once for
 * the host (--base-image local), one copy deployed per trace function with its memory.csv size,
 * exactly the trace's calls per minute, and each record saying what was asked and what was done.
 */
test('bench --trace on the local target: copies sized from memory.csv, per-minute counts exact', async () => {
  const platform = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64'
  const env = {
    FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-trace-')),
    FAAS_LOCAL_PORT: '9961',
    FAAS_TARGET: 'local',
    FAAS_PLATFORM: platform,
  }
  const out = mkdtempSync(join(tmpdir(), 'faas-trace-out-'))
  try {
    const built = await faas(['build', 'trace-function', '--platform', platform, '--base-image', 'local'], {env})
    assert.is(built.exitCode, 0, built.stderr)
    const started = await faasJson(['local', 'start', '--detach'], {env})
    assert.is(started.exitCode, 0, started.stderr)
    const trace = join(PROJECT_ROOT, 'test', 'fixtures', 'trace', 'azure-2019')
    const run = await faasJson(['bench', '--trace', trace, '--speedup', '60', '--trace-minutes', '2', '-o', out], {env})
    assert.is(run.exitCode, 0, run.stderr)
    assert.equal(
      run.result.summary.trace.minutes.map((m: {requested: number; sent: number; succeeded: number}) => [
        m.requested,
        m.sent,
        m.succeeded,
      ]),
      [
        [3, 3, 3],
        [11, 11, 11],
      ],
    )
    const records = readFileSync(join(out, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const memoryOf = Object.fromEntries(records.map((r) => [r.function, r.memoryMb]))
    assert.equal(memoryOf, {'trace-f1': 320, 'trace-f2': 320, 'trace-f3': 128})
    for (const r of records) {
      assert.is(r.function, `trace-${r.traceFunction}`)
      assert.ok(r.actualMs >= r.requestedMs, `${r.actualMs} < ${r.requestedMs}`)
      assert.is(r.actualMemoryMb, r.requestedMemoryMb)
      assert.ok(r.maxMemoryUsedMb > 0)
    }
    // A second replay finds its copies deployed and unchanged, and replays the same schedule.
    const again = await faasJson(['bench', '--trace', trace, '--speedup', '60', '--trace-minutes', '1', '-o', out], {
      env,
    })
    assert.is(again.exitCode, 0, again.stderr)
    assert.is(again.result.summary.count, 3)
  } finally {
    await faas(['local', 'stop'], {env})
    rmSync(env.FAAS_HOME, {recursive: true, force: true})
    rmSync(out, {recursive: true, force: true})
  }
})

test.run()
