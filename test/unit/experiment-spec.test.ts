import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {interleave} from '../../src/experiments/interleave.js'
import {parseExperiment} from '../../src/experiments/spec.js'

const valid = `
name: sleep
benchmark: ./bench
variants:
  - name: short
    env: {SLEEP_MS: "10"}
  - name: long
    env: {SLEEP_MS: "60"}
load: {rps: 4, time: 5}
metric: duration
`

/** The UserError message a bad file gives. */
function problem(text: string, file = 'e.yaml'): string {
  try {
    parseExperiment(text, file)
  } catch (error) {
    assert.instance(error, UserError)
    return (error as UserError).paragraph
  }
  throw new Error('expected the experiment to be refused')
}

test('interleaving: each repeat starts one variant further along (hand-computed)', () => {
  assert.equal(
    interleave(['A', 'B', 'C'], 3).map((s) => `${s.repeat}${s.variant}${s.index}`),
    ['0A0', '0B1', '0C2', '1B3', '1C4', '1A5', '2C6', '2A7', '2B8'],
  )
  assert.equal(
    interleave(['A', 'B'], 4)
      .map((s) => s.variant)
      .join(''),
    'ABBAABBA',
  )
  assert.equal(
    interleave(['A', 'B'], 1).map((s) => s.variant),
    ['A', 'B'],
  )
})

test('a valid file gets the defaults filled in', () => {
  const e = parseExperiment(valid, 'e.yaml')
  assert.is(e.seed, 1)
  assert.is(e.repeat, 1)
  assert.equal(e.metric, [{name: 'duration', statistic: 'median'}])
  assert.is(e.load.rps, 4)
  assert.is(e.load.warmup, 0)
  assert.is(e.load.distribution, 'fixed')
})

test('metrics: a list with statistics; the cold share defaults to the mean', () => {
  const e = parseExperiment(valid.replace('metric: duration', 'metric: [cold, "latency:p99"]'), 'e.yaml')
  assert.equal(e.metric, [
    {name: 'cold', statistic: 'mean'},
    {name: 'latency', statistic: 'p99'},
  ])
})

test('JSON works the same', () => {
  const e = parseExperiment(
    JSON.stringify({name: 'x', benchmark: 'b', variants: [{name: 'a'}, {name: 'b', memory: 2048}], metric: 'init'}),
    'e.json',
  )
  assert.is(e.variants[1]!.memory, 2048)
})

test('bad files name the field and the fix', () => {
  assert.match(
    problem(valid.replace('benchmark: ./bench\n', '')),
    /benchmark: is missing: name the benchmark to run, a folder with a benchmark\.json/,
  )
  assert.not.match(problem(valid.replace('benchmark: ./bench\n', '')), /expected string, received undefined/)
  assert.match(
    problem(valid.replace('  - name: long\n    env: {SLEEP_MS: "60"}\n', '')),
    /variants: needs at least two variants/,
  )
  assert.match(
    problem(valid.replace('metric: duration', 'metric: speed')),
    /metric\[0\]: "speed" is not a metric; use one of latency, duration, init, cost, cold/,
  )
  assert.match(
    problem(valid.replace('metric: duration', 'metric: "latency:p42"')),
    /metric\[0\]: "p42" is not a statistic/,
  )
  assert.match(problem(valid.replace('env: {SLEEP_MS: "60"}', 'memory: 64')), /variants\[1\]\.memory: .*128/)
  assert.match(
    problem(valid.replace('env: {SLEEP_MS: "60"}', 'env: {SLEEP_MS: 60}')),
    /variants\[1\]\.env\.SLEEP_MS: .*string/,
  )
  assert.match(problem(valid.replace('load: {rps: 4, time: 5}', 'load: {rps: -1, time: 5}')), /load\.rps: .*>0/)
  assert.match(problem(valid.replace('load: {rps: 4, time: 5}', 'load: {rsp: 4}')), /load: unknown field "rsp"/)
  assert.match(
    problem(valid.replace('name: long', 'name: short')),
    /variants\[1\]\.name: "short" is used by more than one variant/,
  )
  assert.match(problem(valid.replace('name: long', 'name: Long_One')), /variants\[1\]\.name: must be lower-case/)
  assert.match(problem(valid.replace('metric: duration', '')), /metric: give one metric or a list/)
  assert.match(
    problem(valid + 'compare: [[short, nope]]\n'),
    /compare\[0\]\[1\]: "nope" is not one of the variants \(short, long\)/,
  )
  assert.match(
    problem(valid.replace('env: {SLEEP_MS: "60"}', 'keepWarm: {every: 0}')),
    /variants\[1\]\.keepWarm\.every/,
  )
  assert.match(problem('name: [unclosed'), /e\.yaml is not valid YAML/)
  assert.match(problem('{"name": ', 'e.json'), /e\.json is not valid JSON/)
})

test.run()
