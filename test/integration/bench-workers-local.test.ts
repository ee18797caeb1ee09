import {execa, type ResultPromise} from 'execa'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'
import {faas, faasJson} from '../helpers/cli.js'
import {waitFor} from '../helpers/wait.js'

/**
 * bench --workers on the local target through the built CLI: the load-generator image built for the host, two
 * workers deployed as functions, each sending its round-robin share of a 3 s schedule to a trivial function
 * through the service's Lambda API, writing its records to the local S3 store, merged here.
 */
const MOTO = process.env.FAAS_MOTO_SERVER ?? '/var/lib/faas-stack/venv/bin/moto_server'
const S3_PORT = process.env.FAAS_WORKERS_TEST_S3_PORT ?? '9912'

test('bench --workers 2 on the local target: merged records with their worker, per-worker rates, a trace', async () => {
  const platform = process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64'
  const env = {
    FAAS_HOME: mkdtempSync(join(tmpdir(), 'faas-workers-')),
    FAAS_LOCAL_PORT: process.env.FAAS_WORKERS_TEST_PORT ?? '9911',
    FAAS_LOCAL_S3_PORT: S3_PORT,
    FAAS_LOCAL_S3_ENDPOINT: `http://127.0.0.1:${S3_PORT}`,
    FAAS_TARGET: 'local',
    FAAS_PLATFORM: platform,
  }
  const out = mkdtempSync(join(tmpdir(), 'faas-workers-out-'))
  // The local S3 store is moto itself (what the store's container runs), on a port of this test's own.
  const moto: ResultPromise = execa(MOTO, ['-H', '127.0.0.1', '-p', S3_PORT], {reject: false, stdio: 'ignore'})
  try {
    await waitFor(
      'moto to answer',
      () =>
        fetch(`http://127.0.0.1:${S3_PORT}/`).then(
          () => true,
          () => false,
        ),
      {giveUp: () => (moto.exitCode !== null ? 'moto exited' : undefined)},
    )
    for (const benchmark of ['load-generator', 'trace-function']) {
      const built = await faas(['build', benchmark, '--platform', platform, '--base-image', 'local'], {env})
      assert.is(built.exitCode, 0, built.stderr)
    }
    const deployed = await faas(['deploy', '-f', 'tiny', '-n', 'trace-function-spin', '--memory', '128'], {env})
    assert.is(deployed.exitCode, 0, deployed.stderr)
    const run = await faasJson(
      ['bench', '-f', 'tiny', '-p', '{"ms":1}', '--rps', '20', '--time', '3', '--workers', '2', '-o', out],
      {env},
    )
    assert.is(run.exitCode, 0, run.stderr)
    const records = readFileSync(join(out, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    // Every arrival of the schedule, once, in order; the i-th sent by worker i % 2, and answered.
    assert.equal(
      records.map((r) => r.seq),
      Array.from({length: 60}, (_, i) => i),
    )
    for (const r of records) {
      assert.is(r.worker, r.seq % 2)
      assert.is(r.function, 'tiny')
      assert.is(r.error, undefined, r.error)
      assert.ok(r.providerDurationUs > 0)
    }
    const summary = run.result.summary
    assert.is(summary.count, 60)
    assert.equal(
      summary.workers.map((w: {worker: number; function: string; count: number}) => [w.worker, w.function, w.count]),
      [
        [0, 'faas-loadgen-0', 30],
        [1, 'faas-loadgen-1', 30],
      ],
    )
    for (const w of summary.workers) {
      assert.ok(Math.abs(w.achievedRps - 10) < 0.5, `worker ${w.worker}: ${w.achievedRps} rps`)
      // Same kernel clock: the measured offset is within the round trip it was measured with.
      assert.ok(Math.abs(w.clockOffsetUs) <= w.clockRttUs, `offset ${w.clockOffsetUs} µs, rtt ${w.clockRttUs} µs`)
      assert.ok(w.latenessUs.count === 30)
    }
    assert.match(readFileSync(join(out, 'records.csv'), 'utf8').split('\n')[0]!, /,worker$/)

    // A trace shared by the workers: its copies deployed, exactly its calls per minute, each record saying what
    // was asked (from the schedule) and what was done (from the trace function's answer), and which worker sent it.
    const traceOut = join(out, 'trace')
    const trace = join(PROJECT_ROOT, 'test', 'fixtures', 'trace', 'azure-2019')
    const replay = await faasJson(
      ['bench', '--trace', trace, '--speedup', '60', '--trace-minutes', '2', '--workers', '2', '-o', traceOut],
      {env},
    )
    assert.is(replay.exitCode, 0, replay.stderr)
    assert.equal(
      replay.result.summary.trace.minutes.map((m: {requested: number; sent: number; succeeded: number}) => [
        m.requested,
        m.sent,
        m.succeeded,
      ]),
      [
        [3, 3, 3],
        [11, 11, 11],
      ],
    )
    const traced = readFileSync(join(traceOut, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(new Set(traced.map((r) => r.worker)), new Set([0, 1]))
    for (const r of traced) {
      assert.is(r.function, `trace-${r.traceFunction}`)
      assert.ok(r.actualMs >= r.requestedMs, `${r.actualMs} < ${r.requestedMs}`)
      assert.is(r.actualMemoryMb, r.requestedMemoryMb)
    }
    assert.match(readFileSync(join(traceOut, 'invitro.csv'), 'utf8'), /^phase,instance,invocationID/)
  } finally {
    await faas(['local', 'stop'], {env})
    moto.kill()
    await moto
    rmSync(env.FAAS_HOME, {recursive: true, force: true})
    rmSync(out, {recursive: true, force: true})
  }
})

test.run()
