import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {silent} from '../../src/core/events.js'
import {loadFunctions, saveFunctions} from '../../src/local/function-store.js'
import type {LocalFunction} from '../../src/local/types.js'
import {
  freeze,
  pickVersion,
  qualifierIn,
  requestedQualifier,
  resolveQualifier,
  resolvedImageUri,
  unchangedSinceLastVersion,
} from '../../src/local/versions.js'

const fn: LocalFunction = {
  name: 'f',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
  imageUri: 'registry:5000/team/f:latest',
  memoryMb: 256,
  timeoutS: 3,
  env: {A: '1'},
  architectures: ['x86_64'],
  ephemeralStorageMb: 512,
  logFormat: 'Text',
  revision: 1,
  lastModified: '2026-01-01T00:00:00.000+0000',
  codeSha256: 'abc',
  imageDigest: 'sha256:abc',
}

test('qualifiers come from a qualified name or ARN, or ?Qualifier; the two must agree', () => {
  assert.is(qualifierIn('f'), undefined)
  assert.is(qualifierIn('f:3'), '3')
  assert.is(qualifierIn('arn:aws:lambda:us-east-1:000000000000:function:f'), undefined)
  assert.is(qualifierIn(encodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:f:live')), 'live')
  assert.is(qualifierIn('000000000000:function:f:$LATEST'), '$LATEST')
  assert.is(requestedQualifier('f', '2'), '2')
  assert.is(requestedQualifier('f:2', '2'), '2')
  assert.throws(() => requestedQualifier('f:2', 'live'), /does not match the specified qualifier/)
  assert.throws(() => requestedQualifier('f', 'a b'), /failed to satisfy constraint/)
})

test('an alias runs its extra version with the extra weight, its own version otherwise', () => {
  const alias = {name: 'live', functionVersion: '1', description: '', weights: {'2': 0.25}, revisionId: 'r'}
  assert.is(
    pickVersion(alias, () => 0.2),
    '2',
  )
  assert.is(
    pickVersion(alias, () => 0.25),
    '1',
  )
  assert.is(
    pickVersion({...alias, weights: {}}, () => 0),
    '1',
  )
  const v1 = freeze(fn, undefined)
  const latest = {...fn, versions: [v1, {...freeze({...fn, versions: [v1]}, 'second'), env: {A: '2'}}]}
  assert.equal(
    latest.versions.map((v) => [v.version, v.arn.endsWith(`:${v.version}`)]),
    [
      ['1', true],
      ['2', true],
    ],
  )
  const withAlias = {...latest, aliases: {live: alias}}
  assert.is(resolveQualifier(withAlias, 'live', () => 0.9).fn.version, '1')
  assert.is(resolveQualifier(withAlias, 'live', () => 0.1).fn.env.A, '2')
  assert.is(resolveQualifier(withAlias, undefined).fn, withAlias)
  assert.throws(() => resolveQualifier(withAlias, '3'), /Function not found: arn:aws:lambda:.*:function:f:3$/)
  assert.throws(() => resolveQualifier(withAlias, 'dev'), /Function not found: arn:aws:lambda:.*:function:f:dev$/)
})

test('publishing again is a no-op until code or configuration changes', () => {
  const latest: LocalFunction = {...fn, versions: [freeze(fn, undefined)]}
  assert.is(unchangedSinceLastVersion(latest)?.version, '1')
  assert.is(unchangedSinceLastVersion({...latest, lastModified: 'later', revisionId: 'other'})?.version, '1')
  assert.is(unchangedSinceLastVersion({...latest, env: {A: '2'}}), undefined)
  assert.is(unchangedSinceLastVersion({...latest, codeSha256: 'def'}), undefined)
  assert.is(freeze({...latest, nextVersion: 5}, undefined).version, '5', 'numbers of deleted versions are not reused')
})

test('ResolvedImageUri is the repository at the digest', () => {
  assert.is(resolvedImageUri(fn), 'registry:5000/team/f@sha256:abc')
  assert.is(resolvedImageUri({...fn, imageUri: 'f'}), 'f@sha256:abc')
  assert.is(resolvedImageUri({...fn, imageUri: 'sha256:abc'}), 'sha256:abc')
  assert.is(resolvedImageUri({...fn, imageDigest: undefined}), fn.imageUri)
})

test('a functions file written before versions existed still loads; versions round-trip, variables sealed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faas-store-'))
  const file = join(dir, 'functions.json')
  const {imageDigest: _digest, ...old} = fn
  // What an older faas wrote: no versions, aliases, RevisionId or digest; a base64 CodeSha256.
  writeFileSync(file, JSON.stringify({functions: [{...old, env: undefined, codeSha256: 'q83v'}]}))
  const [loaded] = loadFunctions(file, 'key', silent)
  assert.is(loaded?.name, 'f')
  assert.equal(loaded?.env, {})
  assert.ok(loaded?.revisionId, 'a RevisionId is given')
  assert.is(loaded?.versions, undefined)
  const v1 = freeze({...fn, env: {SECRET: 'one'}}, undefined)
  const saved: LocalFunction = {
    ...fn,
    env: {SECRET: 'two'},
    versions: [v1],
    nextVersion: 2,
    aliases: {live: {name: 'live', functionVersion: '1', description: '', weights: {}, revisionId: 'r'}},
  }
  saveFunctions(file, [saved], 'key', silent)
  const text = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')))
  assert.not.match(text, /"SECRET"|"one"|"two"/, "no version's variables in clear")
  const [again] = loadFunctions(file, 'key', silent)
  assert.equal(again?.versions?.[0]?.env, {SECRET: 'one'})
  assert.is(again?.versions?.[0]?.version, '1')
  assert.is(again?.aliases?.live?.functionVersion, '1')
  assert.is(again?.nextVersion, 2)
})

test.run()
