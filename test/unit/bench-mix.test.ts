import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {mixArrivals, mixShape, parseMix} from '../../src/bench/mix.js'
import {isUserError} from '../../src/core/errors.js'

const MIX = `
baseUrl: http://127.0.0.1:8080/dev
requests:
  - {name: search, weight: 3, path: /stateflow, body: {op: search}}
  - {name: health, weight: 1, method: get, url: "http://127.0.0.1:9000/health?deep=1"}
`

test('a mix file: paths on the base URL, JSON bodies as JSON with their content type, methods upper-cased', () => {
  const [search, health] = parseMix(MIX, 'mix.yaml')
  assert.is(search!.url.href, 'http://127.0.0.1:8080/dev/stateflow')
  assert.is(search!.method, 'POST')
  assert.is(search!.body, '{"op":"search"}')
  assert.equal(search!.headers, {'content-type': 'application/json'})
  assert.is(health!.method, 'GET')
  assert.is(health!.url.search, '?deep=1')
  assert.is(health!.body, undefined)
  assert.is(
    parseMix(MIX, 'mix.yaml', 'https://abc.lambda-url.us-east-1.on.aws')[0]!.url.origin,
    'https://abc.lambda-url.us-east-1.on.aws',
  )
})

test('arrivals pick requests by weight, the same for the same seed', () => {
  const mix = parseMix(MIX, 'mix.yaml')
  const at = Array.from({length: 4000}, (_, i) => ({atUs: i * 1000}))
  const names = [...mixArrivals(mix, at, 7)].map((a) => a.fn)
  const searches = names.filter((n) => n === 'search').length
  assert.ok(searches > 2800 && searches < 3200, `${searches} of 4000 are search (weight 3 of 4)`)
  assert.equal(
    [...mixArrivals(mix, at, 7)].map((a) => a.fn),
    names,
  )
  assert.not.equal(
    [...mixArrivals(mix, at, 8)].map((a) => a.fn),
    names,
  )
  const first = [...mixArrivals(mix, at, 7)].find((a) => a.fn === 'search')!
  assert.is(first.payload, '{"op":"search"}')
})

test('a mix over plain arrivals keeps the rate and window and names its shares', () => {
  const shape = mixShape(parseMix(MIX, 'mix.yaml'), undefined, {
    rps: 10,
    durationS: 3,
    warmupS: 1,
    distribution: 'fixed',
  })
  assert.is([...shape.schedule()].length, 40)
  assert.is(shape.requestedRps, 10)
  assert.match(shape.label, /10 rps for 3 s, mixed: search 75\.0 %, health 25\.0 %/)
})

const refused = (text: string, pattern: RegExp, base?: string) => {
  try {
    parseMix(text, 'mix.yaml', base)
    assert.unreachable('accepted')
  } catch (error) {
    assert.ok(isUserError(error) && error.code === 'BAD_MIX', String(error))
    assert.match((error as Error).message, pattern)
  }
}

test('bad mixes are refused with what is wrong', () => {
  refused('requests: []', /non-empty "requests" list/)
  refused('requests: [{name: a, weight: 0, url: "http://x"}]', /"weight" must be a number above 0/)
  refused('requests: [{name: a, weight: 1, method: FETCH, url: "http://x"}]', /method "FETCH" is not one of/)
  refused('requests: [{name: a, weight: 1, path: /x}]', /no baseUrl/)
  refused('requests: [{name: a, weight: 1, url: "ftp://x"}]', /not http:\/\/ or https:\/\//)
  refused(
    'requests: [{name: a, weight: 1, url: "http://x"}, {name: a, weight: 1, url: "http://y"}]',
    /two requests are named "a"/,
  )
  refused('requests: [{name: a, weight: 1}]', /either "url" or "path"/)
  refused('{requests: [', /not valid YAML or JSON/)
})

test.run()
