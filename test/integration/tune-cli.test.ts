import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {DockerEngine} from '../../src/docker/engine.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {assertUserError, faas, faasJson} from '../helpers/cli.js'
import {freePort} from '../helpers/net.js'

/**
 * faas tune on the local target through the built binary (npm run build first): a version per power value behind
 * a tune-<MB> alias, calls in parallel, the choice, the alias pointed, $LATEST's memory put back, the tune-<MB>
 * aliases and the versions not chosen removed, and the report written. Bad input is refused before anything.
 */
test('faas tune --target local: versions per power value, choice, --auto-optimize, report; bad input', async () => {
  const [repo, tag] = (await fixtureImage(new DockerEngine())).split(':') as [string, string]
  const home = mkdtempSync(join(tmpdir(), 'faas-tune-'))
  const out = mkdtempSync(join(tmpdir(), 'faas-tune-out-'))
  const env = {FAAS_HOME: home, FAAS_LOCAL_PORT: String(await freePort()), FAAS_TARGET: 'local'}
  try {
    const tune = (...args: string[]) => faas(['tune', '-f', 'tuned', ...args], {env})
    assertUserError(await tune('--num', '3'), /--num 3 is below 5, Power Tuning's floor/)
    assertUserError(await tune('--power-values', '64,256'), /Power value 64 is outside Lambda's memory range/)
    assertUserError(await tune('--strategy', 'cheap'), /Unknown strategy "cheap"/)
    assertUserError(await tune('--balanced-weight', '2'), /--balanced-weight 2 is outside 0–1/)
    assertUserError(await tune('--prices', 'request=0.20'), /request=0\.20 is too large for dollars per request/)
    assert.not.ok(existsSync(join(home, 'local', 'functions.json')), 'no service was started, nothing changed')
    const deployed = await faas(
      ['deploy', '-n', repo, '-t', tag, '-f', 'tuned', '--handler', 'handler.trivial', '--arch', 'x86_64'],
      {env},
    )
    assert.is(deployed.exitCode, 0, deployed.stderr)
    const tuned = await faasJson(
      [
        'tune',
        '-f',
        'tuned',
        '--power-values',
        '128,512',
        '--num',
        '6',
        '--parallel',
        '--strategy',
        'speed',
        '--auto-optimize',
        '--prices',
        'x86_64=0.00002,request=0.0000003',
        '-o',
        out,
      ],
      {env},
    )
    assert.is(tuned.exitCode, 0, tuned.stderr)
    const r = tuned.result
    assert.equal(
      r.results.map((x: {memoryMb: number}) => x.memoryMb),
      [128, 512],
    )
    for (const x of r.results) {
      assert.is(x.durationsMs.length, 6 - 2 * Math.floor(6 * 0.2), 'the slowest and fastest 20 % left out')
      assert.ok(x.averageCostUsd > 0 && x.averageTotalUsd > x.averageCostUsd)
      assert.ok(x.durationIntervalMs[0] <= x.medianDurationMs && x.medianDurationMs <= x.durationIntervalMs[1])
    }
    assert.is(r.prices.perGbSecondUsd, 0.00002, 'the price given for x86_64')
    assert.is(r.prices.perRequestUsd, 0.0000003)
    const first = r.results[0]
    assert.ok(Math.abs(first.averageTotalUsd - first.averageCostUsd - 0.0000003) < 1e-12)
    assert.ok([128, 512].includes(r.best.memoryMb))
    assert.equal(r.alias, {name: 'live', version: r.best.version})
    assert.match(r.verdict, r.decided ? /excludes zero/ : /no difference detected/)
    const state = await faasJson(['local', 'status'], {env})
    assert.equal(state.result.functions, ['tuned'])
    const lambda = JSON.parse(readFileSync(join(home, 'local', 'functions.json'), 'utf8'))
    const fn = (Array.isArray(lambda) ? lambda : lambda.functions).find((f: {name: string}) => f.name === 'tuned')
    assert.is(fn.memoryMb, 1024, "$LATEST's memory is put back")
    assert.equal(Object.keys(fn.aliases ?? {}), ['live'], 'the tune-<MB> aliases are gone')
    assert.equal(
      fn.versions.map((v: {version: string}) => v.version),
      [r.best.version],
      'only the chosen version stays',
    )
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<svg[^>]*aria-label="Duration/)
    assert.is(readFileSync(join(out, 'calls.csv'), 'utf8').trim().split('\n').length, 1 + 2 * 4)
    const records = readFileSync(join(out, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.is(records.length, 2 * 6, 'every call is recorded, the discarded ones too')
    for (const record of records) {
      assert.match(record.function, /^tuned:tune-(128|512)$/)
      assert.ok(record.providerDurationUs > 0 && record.billedDurationUs > 0 && typeof record.cold === 'boolean')
    }
    assert.is(r.records, undefined, '--json leaves the records to -o')
  } finally {
    await faas(['local', 'stop'], {env})
    rmSync(home, {recursive: true, force: true})
    rmSync(out, {recursive: true, force: true})
  }
})

/**
 * --only-cold-starts: one version per call (tune-<MB>-<i>, made different by a variable, as Power Tuning does), so
 * every measured call is a cold start with its Init Duration; none left out by default; $LATEST keeps its memory
 * and its own variables; every per-call alias and version is removed afterwards.
 */
test('faas tune --only-cold-starts --target local: every call is a cold start, $LATEST as it was', async () => {
  const [repo, tag] = (await fixtureImage(new DockerEngine())).split(':') as [string, string]
  const home = mkdtempSync(join(tmpdir(), 'faas-tune-cold-'))
  const env = {FAAS_HOME: home, FAAS_LOCAL_PORT: String(await freePort()), FAAS_TARGET: 'local'}
  try {
    const deployed = await faas(
      [
        'deploy',
        '-n',
        repo,
        '-t',
        tag,
        '-f',
        'cold',
        '--handler',
        'handler.env',
        '--arch',
        'x86_64',
        '--memory',
        '512',
      ].concat(['--envmap', '{"MY_SETTING":"kept"}']),
      {env},
    )
    assert.is(deployed.exitCode, 0, deployed.stderr)
    const num = 5
    const tuned = await faasJson(
      ['tune', '-f', 'cold', '--power-values', '128,256', '--num', String(num), '--parallel', '--only-cold-starts'],
      {env},
    )
    assert.is(tuned.exitCode, 0, tuned.stderr)
    assert.ok(tuned.result.onlyColdStarts)
    for (const x of tuned.result.results) {
      assert.is(x.coldStarts, num, `every call at ${x.memoryMb} MB is a cold start`)
      assert.is(x.durationsMs.length, num, 'none left out by default with only cold starts')
      assert.ok(x.medianInitDurationMs > 0)
    }
    const lambda = JSON.parse(readFileSync(join(home, 'local', 'functions.json'), 'utf8'))
    const fn = (Array.isArray(lambda) ? lambda : lambda.functions).find((f: {name: string}) => f.name === 'cold')
    assert.equal(Object.keys(fn.aliases ?? {}), [], 'the per-call aliases are gone')
    assert.equal(fn.versions ?? [], [], 'the per-call versions are gone')
    const after = await faasJson(['invoke', '-f', 'cold'], {env})
    assert.is(after.exitCode, 0, after.stderr)
    const seen = JSON.parse(after.result.payload)
    assert.is(seen.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '512', "$LATEST's memory is put back")
    assert.is(seen.MY_SETTING, 'kept', "$LATEST's variables are put back")
  } finally {
    await faas(['local', 'stop'], {env})
    rmSync(home, {recursive: true, force: true})
  }
})

test.run()
