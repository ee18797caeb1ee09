import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {DEFAULT_PRICES} from '../../src/bench/cost.js'
import {parsePrices} from '../../src/bench/prices.js'

const refused = (text: string, pattern: RegExp) => {
  try {
    parsePrices(text)
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    assert.match((error as UserError).paragraph, /Give --prices as key=value pairs or a JSON file/)
    return
  }
  assert.unreachable(`--prices ${text} was accepted`)
}

test('defaults: the AWS list prices with their source and date', () => {
  assert.equal(DEFAULT_PRICES.perGbSecondUsd, {x86_64: 0.0000166667, arm64: 0.0000133334})
  assert.is(DEFAULT_PRICES.perRequestUsd, 0.0000002)
  assert.match(DEFAULT_PRICES.asOf, /us-east-1, first tier/)
})

test('key=value pairs override what they name; the rest keep the defaults; the origin is said', () => {
  const p = parsePrices('arm64=0.0000106667, request=0.00000025')
  assert.equal(p.perGbSecondUsd, {x86_64: 0.0000166667, arm64: 0.0000106667})
  assert.is(p.perRequestUsd, 0.00000025)
  assert.match(p.asOf, /^given by --prices \(arm64=0\.0000106667, request=0\.00000025\); others: AWS list prices/)
})

test('a JSON file of the same keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-prices-'))
  try {
    const file = join(dir, 'prices.json')
    writeFileSync(file, JSON.stringify({x86_64: 0.0000133334, request: 0.0000002}))
    assert.is(parsePrices(file).perGbSecondUsd.x86_64, 0.0000133334)
    writeFileSync(file, '{oops')
    refused(file, /is not JSON/)
    writeFileSync(file, '[1]')
    refused(file, /not a JSON object of prices/)
    writeFileSync(file, JSON.stringify({arm64: 'cheap'}))
    refused(file, /arm64=cheap is not a positive number/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('bad prices are refused with the problem and the fix', () => {
  refused('x86=0.00001', /"x86", which is not one of Lambda's prices \(x86_64, arm64, request\)/)
  refused('x86_64=-1', /x86_64=-1 is not a positive number/)
  refused('x86_64=', /x86_64= is not a positive number/)
  refused('request=0.20', /request=0\.20 is too large for dollars per request .*per million/)
  refused('arm64=0.06', /arm64=0\.06 is too large for dollars per GB-second/)
  refused('x86_64=1e-5,x86_64=2e-5', /gives x86_64 twice/)
  refused('/nonexistent/prices.json', /neither key=value pairs nor a file that can be read/)
})

test.run()
