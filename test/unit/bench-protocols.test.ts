import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {benchOptions, endpointOf, functionsToDrive, parseEndpoints} from '../../src/bench/inputs.js'
import {checkProtocol, networkAddress} from '../../src/bench/protocols/endpoints.js'
import {UserError} from '../../src/core/errors.js'
import {parseManifest} from '../../src/core/manifest.js'

const userError = (fn: () => unknown, code: string, ...parts: string[]) => {
  try {
    fn()
    assert.unreachable('expected a UserError')
  } catch (error) {
    assert.instance(error, UserError)
    assert.is((error as UserError).code, code)
    for (const part of parts)
      assert.ok((error as UserError).paragraph.includes(part), `"${(error as UserError).paragraph}" mentions ${part}`)
  }
}

test('an unknown protocol is refused naming the three', () => {
  userError(() => checkProtocol('soap'), 'BAD_PROTOCOL', '"soap"', 'lambda', 'http', 'grpc')
  assert.is(checkProtocol('grpc'), 'grpc')
})

test('network endpoints are host[:port], the port defaulting per protocol as vSwarm -port does', () => {
  const text = JSON.stringify([
    {hostname: '127.0.0.1:9000', eventing: false, matchers: null},
    {hostname: 'chameleon.default.example.com'},
    {hostname: '[::1]:7'},
  ])
  assert.equal(parseEndpoints(text, 'e.json', endpointOf('grpc')), [
    '127.0.0.1:9000',
    'chameleon.default.example.com:50051',
    '[::1]:7',
  ])
  assert.equal(parseEndpoints(text, 'e.json', endpointOf('http')), [
    '127.0.0.1:9000',
    'chameleon.default.example.com:80',
    '[::1]:7',
  ])
  assert.equal(parseEndpoints(text, 'e.json', endpointOf('grpc', 6000)), [
    '127.0.0.1:9000',
    'chameleon.default.example.com:6000',
    '[::1]:7',
  ])
  // A Lambda endpoints file names functions: host:port is not one.
  userError(
    () => parseEndpoints(text, 'e.json', endpointOf('lambda')),
    'BAD_ENDPOINTS',
    'entry 1',
    'not a valid Lambda function name',
    '--protocol http or grpc',
  )
  userError(
    () => parseEndpoints('[{"hostname": "a b:1"}]', 'e.json', endpointOf('grpc')),
    'BAD_ENDPOINTS',
    'entry 1',
    'not host[:port]',
  )
  userError(
    () => parseEndpoints('[{"hostname": "h:70000"}]', 'e.json', endpointOf('http')),
    'BAD_ENDPOINTS',
    'outside 1–65535',
  )
  assert.throws(() => networkAddress('http://h:1', 1), /not host\[:port\]/)
  // A whole http:// URL is an http endpoint (a Function URL, an API route), called at its path.
  assert.equal(endpointOf('http')('http://127.0.0.1:4000/dev/stateflow?x=1'), 'http://127.0.0.1:4000/dev/stateflow?x=1')
  assert.throws(() => endpointOf('http')('https://a.example/'), /must be an http:\/\/ URL/)
  assert.throws(() => endpointOf('grpc')('http://h:1'), /not host\[:port\]/)
})

test('--function_name takes host:port with a network protocol', async () => {
  assert.equal(await functionsToDrive({function_name: ['localhost'], protocol: 'http', port: 8080}), ['localhost:8080'])
  await functionsToDrive({function_name: ['x:y'], protocol: 'grpc'}).then(
    () => assert.unreachable(),
    (error) => assert.is(error.code, 'BAD_ENDPOINTS'),
  )
  await functionsToDrive({function_name: ['f'], protocol: 'carrier-pigeon'}).then(
    () => assert.unreachable(),
    (error) => assert.is(error.code, 'BAD_PROTOCOL'),
  )
})

test('sweeps and cold starts need Lambda', () => {
  const flags = {
    functions: ['h:1'],
    payload: '{}',
    rps: 1,
    time: 1,
    warmup: 0,
    distribution: 'fixed',
    seed: 1,
    'max-in-flight': 10,
    latf: 'lat.csv',
    platform: 'linux/amd64' as const,
  }
  assert.is(benchOptions({...flags, protocol: 'grpc'}).protocol, 'grpc')
  assert.is(benchOptions(flags).protocol, 'lambda')
  userError(() => benchOptions({...flags, protocol: 'grpc', memory: [128]}), 'BAD_FLAG', '--memory', '--protocol grpc')
  userError(() => benchOptions({...flags, protocol: 'http', 'cold-starts': 3}), 'BAD_FLAG', '--cold-starts')
  // --prices as tune takes it; keys left out keep the defaults.
  const prices = benchOptions({...flags, prices: 'arm64=0.00001'}).prices
  assert.equal(prices?.perGbSecondUsd, {x86_64: 0.0000166667, arm64: 0.00001})
  userError(() => benchOptions({...flags, prices: 'arm=1'}), 'BAD_PRICES', '"arm"')
})

test('a manifest may declare the ports its servers listen on', () => {
  const base = {name: 'bench', functions: {f: {}}}
  assert.equal(parseManifest({...base, serve: {grpc: 50051, http: 8080}}, '/x').serve, {grpc: 50051, http: 8080})
  assert.is(parseManifest(base, '/x').serve, undefined)
  userError(() => parseManifest({...base, serve: {grpc: 'yes'}}, '/x'), 'BAD_MANIFEST', '"serve"')
})

test.run()
