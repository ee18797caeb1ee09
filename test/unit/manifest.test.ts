import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {
  deployedName,
  listBenchmarks,
  loadBenchmark,
  parseManifest,
  resolveEnv,
  selectFunctions,
} from '../../src/core/manifest.js'
import {checkFunctionName, checkRepositoryName, checkTag, ecrRegistry, isEcrRegistry} from '../../src/core/names.js'
import {PROJECT_ROOT} from '../../src/core/paths.js'
import {parsePlatforms} from '../../src/core/platform.js'
import {scaffoldBenchmark} from '../../src/core/scaffold.js'
import {loadSettings} from '../../src/core/settings.js'

const throwsUser = (fn: () => unknown, pattern: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    return
  }
  assert.unreachable('expected a UserError')
}

test('map-reduce manifest: defaults applied, driver wired to the mapper and reducer by deployed name', async () => {
  const manifest = await loadBenchmark('map-reduce')
  assert.is(manifest.entry, 'driver')
  assert.equal(manifest.check, {dockerfile: 'check/Dockerfile'})
  const [driver, mapper] = selectFunctions(manifest, ['driver', 'mapper'])
  assert.equal(driver!.policies, ['access_s3', 'invoke_function'])
  assert.is(driver!.memoryMb, 512)
  assert.is(mapper!.memoryMb, 1024)
  assert.is(mapper!.timeoutS, 120)
  assert.is(mapper!.dockerfile, 'docker/Dockerfile.Lambda')
  assert.equal(resolveEnv(manifest, driver!), {
    IS_LAMBDA: 'true',
    MAPPER_FUNCTION: 'map-reduce-mapper',
    REDUCER_FUNCTION: 'map-reduce-reducer',
    NUM_MAPPERS: '4',
    NUM_REDUCERS: '2',
  })
  assert.is(deployedName('map-reduce', 'driver', 'x-'), 'x-map-reduce-driver')
})

test('manifest errors name the file and the field', () => {
  throwsUser(
    () => parseManifest({name: 'bb', functions: {}}, '/tmp/b'),
    /\/tmp\/b\/benchmark\.json: "functions" must name at least one function/,
  )
  throwsUser(() => parseManifest({name: 'bb', functions: {f: {env: {N: 3}}}}, '/tmp/b'), /env N of f must be a string/)
  throwsUser(() => parseManifest({name: 'bb', entry: 'g', functions: {f: {}}}, '/tmp/b'), /"entry" names "g"/)
  throwsUser(() => parseManifest({name: 'B', functions: {f: {}}}, '/tmp/b'), /not a valid repository name/)
})

test("the whole manifest is checked against Lambda's limits when read, before any build", () => {
  const bb =
    (functions: unknown, extra: object = {}) =>
    () =>
      parseManifest({name: 'bb', functions, ...extra}, '/tmp/b')
  throwsUser(bb({fn: null}), /benchmark\.json: function "fn" must be an object/)
  throwsUser(bb({fn: []}), /function "fn" must be an object/)
  throwsUser(bb({fn: {memory: 0}}), /"memory" of fn is 0 MB; Lambda allows 128 to 10240/)
  throwsUser(bb({fn: {}}, {defaults: {memory: 20000}}), /"memory" of fn is 20000 MB/)
  throwsUser(bb({fn: {timeout: 901}}), /"timeout" of fn is 901 s; Lambda allows 1 to 900/)
  throwsUser(bb({fn: {timeout: '30'}}), /must be whole numbers/)
  throwsUser(bb({fn: {reservedConcurrency: -1}}), /"reservedConcurrency" of fn must be a whole number/)
  throwsUser(bb({fn: {handler: 3}}), /"handler" of fn must be a non-empty string/)
  throwsUser(bb({fn: {env: {AWS_REGION: 'x'}}}), /env of fn: AWS_REGION is reserved by Lambda/)
  throwsUser(bb({fn: {env: {'1X': 'x'}}}), /Invalid environment variable name/)
  throwsUser(
    bb({fn: {env: {OTHER: '${function:nope}'}}}),
    /refers to \$\{function:nope\}, which is not one of its functions \(fn\)/,
  )
  throwsUser(bb({fn: {policies: 'access_s3'}}), /"policies" of fn must be a list/)
  throwsUser(bb({fn: {}}, {defaults: []}), /"defaults" must be an object/)
  throwsUser(
    bb({fn: {ephemeralStorage: 100}}),
    /"ephemeralStorage" of fn must be a whole number of MB from 512 to 10240/,
  )
  throwsUser(bb({fn: {logFormat: 'json'}}), /"logFormat" of fn must be "Text" or "JSON"/)
  const ok = parseManifest(
    {name: 'bb', functions: {fn: {ephemeralStorage: 2048}}, defaults: {logFormat: 'JSON'}},
    '/tmp/b',
  ).functions[0]!
  assert.is(ok.ephemeralStorageMb, 2048)
  assert.is(ok.logFormat, 'JSON')
})

test('a benchmark is a name under benchmarks/ or a folder by path: a path must hold a benchmark.json', async () => {
  for (const [given, message] of [
    ['x\\y', /is not a benchmark name/],
    ['a b', /is not a benchmark name/],
    ['../../nowhere-x', /Unknown benchmark "\.\.\/\.\.\/nowhere-x" \(no .*nowhere-x\/benchmark\.json\)/],
    ['/etc', /Unknown benchmark "\/etc" \(no \/etc\/benchmark\.json\)/],
    ['.hidden', /Unknown benchmark/],
  ] as const) {
    try {
      await loadBenchmark(given)
      assert.unreachable(given)
    } catch (error) {
      assert.instance(error, UserError)
      assert.match((error as UserError).message, message)
    }
  }
})

test('a copy of a benchmark anywhere loads by its path, named by its manifest', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'faas-copy-')), 'elsewhere')
  cpSync(join(PROJECT_ROOT, 'benchmarks', 'chameleon'), dir, {recursive: true})
  const file = join(dir, 'benchmark.json')
  writeFileSync(file, readFileSync(file, 'utf8').replace('"name": "chameleon"', '"name": "cham-copy"'))
  const manifest = await loadBenchmark(dir)
  assert.is(manifest.name, 'cham-copy')
  assert.is(manifest.dir, dir)
  assert.equal(manifest.check, {dockerfile: 'check/Dockerfile'})
})

test('old manifests: "workload" is refused rather than run unchecked; "check" must name a Dockerfile', () => {
  const base = {name: 'x1', functions: {f: {}}}
  throwsUser(() => parseManifest({...base, workload: 'aes'}, '/tmp/x1'), /"workload" is no longer read/)
  throwsUser(() => parseManifest({...base, check: {}}, '/tmp/x1'), /"check" must be \{"dockerfile"/)
  assert.is(parseManifest(base, '/tmp/x1').check, undefined)
})

test('names: ECR repositories, tags, Lambda function names, ECR hosts', () => {
  assert.is(checkRepositoryName('team/map-reduce-driver'), 'team/map-reduce-driver')
  throwsUser(() => checkRepositoryName('Upper'), /not a valid repository name/)
  throwsUser(() => checkRepositoryName('a--'), /not a valid repository name/)
  throwsUser(() => checkTag('.hidden'), /not a valid image tag/)
  throwsUser(() => checkFunctionName('has space'), /not a valid Lambda function name/)
  throwsUser(() => checkFunctionName('x'.repeat(65)), /not a valid Lambda function name/)
  assert.ok(isEcrRegistry(ecrRegistry('123456789012', 'eu-west-1')))
  assert.not.ok(isEcrRegistry('127.0.0.1:5000'))
})

test('settings accept the seed names and never mistake the SDK names for them', () => {
  const seed = loadSettings({AWS_ACCESS_KEY: 'AKIA', AWS_SECRET_KEY: 's3cr3t', AWS_DEFAULT_REGION: 'eu-west-1'})
  assert.equal(seed.credentials, {accessKeyId: 'AKIA', secretAccessKey: 's3cr3t', sessionToken: undefined})
  assert.is(seed.region, 'eu-west-1')
  assert.is(loadSettings({AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b'}).credentials, undefined)
  assert.is(loadSettings({AWS_REGION: 'us-west-1', AWS_DEFAULT_REGION: 'eu-west-1'}).region, 'us-west-1')
  assert.is(loadSettings({}).platform, 'linux/arm64')
  throwsUser(() => loadSettings({FAAS_TARGET: 'gcp'}), /FAAS_TARGET is "gcp".*"local" or "aws"/)
  assert.equal(parsePlatforms('arm64,linux/amd64,arm64'), ['linux/arm64', 'linux/amd64'])
  throwsUser(() => parsePlatforms('linux/s390x'), /Unknown platform "linux\/s390x"/)
})

test('faas new: a scaffold that loads as a benchmark; a second run leaves it alone', async () => {
  const root = mkdtempSync(join(tmpdir(), 'faas-new-'))
  const first = await scaffoldBenchmark(root, 'thumbs', 'resize')
  assert.ok(first.created)
  assert.equal(await listBenchmarks(root), ['thumbs'])
  const manifest = await loadBenchmark('thumbs', root)
  assert.is(manifest.entry, 'resize')
  assert.equal(manifest.payload, {count: 1000})
  assert.equal(manifest.check, {dockerfile: 'check/Dockerfile'})
  assert.is((await scaffoldBenchmark(root, 'thumbs', 'resize')).created, false)
  for (const name of ['Bad Name', 'bad name!', 'a.b'])
    await scaffoldBenchmark(root, name, 'x').then(
      () => assert.unreachable('bad name accepted'),
      (error) => assert.match(error.message, /^"[^"]+" is not a valid benchmark name\.$/),
    )
})

test.run()
