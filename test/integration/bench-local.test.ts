import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {runBench} from '../../src/bench/bench.js'
import type {Invoke} from '../../src/bench/runner.js'
import {silent} from '../../src/core/events.js'
import {loadSettings} from '../../src/core/settings.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {reconfigurerOf} from '../../src/bench/reconfigure.js'
import type {RunTarget} from '../../src/targets/target.js'
import {sweepThroughVersions} from '../../src/tune/power-sweep.js'

/** faas bench against the local target with a real function container. */
const settings = loadSettings({...process.env, FAAS_TARGET: 'local', FAAS_PLATFORM: 'linux/amd64'})

/** The local target on a service of its own (any free port, in this process, closed after the test). */
async function withLocalTarget(fn: (target: RunTarget) => Promise<void>) {
  const {LocalService} = await import('../../src/local/service.js')
  const {createLocalTarget} = await import('../../src/targets/local.js')
  const engine = new DockerEngine()
  const service = await new LocalService(engine, {port: 0, idleTimeoutMs: 60_000}).start()
  try {
    await fn(createLocalTarget(settings, {endpoint: service.url, engine, credentials: service.credentials}))
  } finally {
    await service.close()
  }
}

const HANDLER = `import os, time, uuid
ENV_ID = str(uuid.uuid4())
def lambda_handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"env": ENV_ID}
`

async function echoImage(engine: DockerEngine): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faas-bench-fixture-'))
  try {
    await writeFile(join(dir, 'handler.py'), HANDLER)
    await writeFile(
      join(dir, 'Dockerfile'),
      'ARG BASE\nFROM ${BASE}\nCOPY handler.py /var/task/handler.py\nCMD ["handler.lambda_handler"]\n',
    )
    const tag = 'faas-test/bench-echo:amd64'
    await engine.build(
      {
        contextDir: dir,
        dockerfile: 'Dockerfile',
        tags: [tag],
        platform: 'linux/amd64',
        buildArgs: {BASE: 'faas/lambda-python:3.11-amd64'},
      },
      tag,
      silent,
    )
    return tag
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

const name = `bench-echo-${process.pid}`
const title =
  'a modest-rate run on the local target: right number of records, first calls cold, the rest warm, a report'
const sweepTitle = 'memory sweep and forced cold starts on the local target'

test(title, () =>
  withLocalTarget(async (t) => {
    const image = await echoImage(new DockerEngine())
    const dir = await mkdtemp(join(tmpdir(), 'faas-bench-local-'))
    try {
      await t.deploy(
        {
          name,
          image: {uri: image, architecture: 'x86_64'},
          handler: 'handler.lambda_handler',
          memoryMb: 256,
          timeoutS: 30,
          env: {},
          policies: [],
        },
        silent,
      )
      // Keep each answer's environment id, to check the cold flags against what really happened.
      const envOf = new Map<number, string>()
      let seq = 0
      const invoke: Invoke = async (request) => {
        const mine = request.invocationType === 'DryRun' ? -1 : seq++
        const outcome = await t.invoke(request)
        if (mine >= 0 && outcome.payload) envOf.set(mine, JSON.parse(outcome.payload).env)
        return outcome
      }
      const result = await runBench(
        {
          functions: [name],
          payload: '{"sleep": 0.05}',
          rps: 5,
          durationS: 6,
          warmupS: 0,
          distribution: 'fixed',
          maxInFlight: 50,
          outDir: dir,
          latf: 'lat.csv',
          architecture: 'x86_64',
        },
        {invoke, emit: silent},
      )
      const records = (await readFile(join(dir, 'records.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      assert.is(records.length, 30)
      assert.ok(
        records.every((r) => !r.error),
        JSON.stringify(records.find((r) => r.error)),
      )
      assert.ok(records[0].cold, 'the first call is cold')
      // A call is cold exactly when it is the first one its environment served.
      const seen = new Set<string>()
      for (const r of records) {
        const env = envOf.get(r.seq)!
        assert.is(r.cold, !seen.has(env), `call ${r.seq} in ${env}`)
        seen.add(env)
        if (r.cold) assert.ok(r.initDurationUs > 0)
      }
      assert.ok(!records.at(-1).cold, 'the last call is warm')
      assert.is(result.summary.cold.count, seen.size)
      assert.ok(result.summary.durationUs!.p50 >= 50_000, 'the provider duration covers the handler sleep')
      assert.ok((await readFile(join(dir, 'report.html'), 'utf8')).includes('id="latency-cdf"'))
    } finally {
      await t.destroy([name], {}, silent).catch(() => undefined)
      await rm(dir, {recursive: true, force: true})
    }
  }),
)

test(sweepTitle, () =>
  withLocalTarget(async (t) => {
    const image = await echoImage(new DockerEngine())
    const dir = await mkdtemp(join(tmpdir(), 'faas-bench-local-'))
    const fn = `${name}-sweep`
    try {
      await t.deploy(
        {
          name: fn,
          image: {uri: image, architecture: 'x86_64'},
          handler: 'handler.lambda_handler',
          memoryMb: 256,
          timeoutS: 30,
          env: {APP: 'kept'},
          policies: [],
        },
        silent,
      )
      const reconfigurer = reconfigurerOf(t)
      const base = {
        functions: [fn],
        payload: '{}',
        rps: 4,
        durationS: 1.5,
        warmupS: 0,
        distribution: 'fixed' as const,
        maxInFlight: 20,
        latf: 'lat.csv',
        architecture: 'x86_64' as const,
      }
      // As bench --memory runs it: a version per size behind its alias, $LATEST's memory untouched.
      const versions = sweepThroughVersions(async () => t, t.invoke.bind(t), [128, 512], silent)
      const sweep = await runBench(
        {...base, outDir: join(dir, 'sweep'), memorySizes: [128, 512]},
        {...versions, emit: silent},
      )
      assert.is((await t.describe(fn))?.memoryMb, 256, "$LATEST's memory is as it was")
      const {ListAliasesCommand, ListVersionsByFunctionCommand} = await import('@aws-sdk/client-lambda')
      const lambda = await t.lambda()
      assert.equal((await lambda.send(new ListAliasesCommand({FunctionName: fn}))).Aliases, [], 'aliases removed')
      assert.equal(
        (await lambda.send(new ListVersionsByFunctionCommand({FunctionName: fn}))).Versions?.map((v) => v.Version),
        ['$LATEST'],
        'the versions the sweep published are removed',
      )
      assert.equal(
        sweep.sweep!.map((r) => [r.memoryMb, r.count, r.errors]),
        [
          [128, 6, 0],
          [512, 6, 0],
        ],
      )
      for (const run of sweep.runs!) {
        assert.equal(run.summary.memoryMb, [run.memoryMb], 'the REPORT line shows the new memory size')
        assert.ok(run.summary.cold.count >= 1, 'a new configuration starts cold')
      }
      const cold = await runBench(
        {...base, outDir: join(dir, 'cold'), coldStarts: 3},
        {invoke: t.invoke.bind(t), ...reconfigurer, emit: silent},
      )
      assert.is(cold.summary.count, 3)
      assert.is(cold.summary.cold.count, 3, 'every round is a cold start')
      // restore() put the original configuration back.
      const config = await t.describe(fn)
      assert.is(config?.memoryMb, 256)
      assert.equal(config?.env, {APP: 'kept'})
    } finally {
      await t.destroy([fn], {}, silent).catch(() => undefined)
      await rm(dir, {recursive: true, force: true})
    }
  }),
)

test.run()
