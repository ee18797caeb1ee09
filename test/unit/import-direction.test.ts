// The layering issue 13 asks for, checked on the sources: bench/ drives functions only through the
// Target interface (nothing from aws/ or the local target), and aws/ adapters never reach up into targets/.
// Issue 17 adds the bottom layers of ARCHITECTURE.md and a rule that folders import one another one way only;
// cycles between files are madge's (npm run lint).
// Issue 17: targets own where functions run, so what runs benchmarks (run/, experiments/, services/ and the
// commands) reaches AWS and the local service only through a target.
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'

const SRC = join(PROJECT_ROOT, 'src')

const sources = (dir: string): string[] =>
  readdirSync(join(SRC, dir), {withFileTypes: true, recursive: true})
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))

/** Every relative module a file imports or re-exports (static or dynamic), as a path under src/ without extension. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.[^'"]+)['"]/g)].map(
    (m) => m[1]!,
  )
  return specifiers.map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, ''))
}

const violations = (dir: string, forbidden: RegExp) =>
  sources(dir).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.test(target))
      .map((target) => `${relative(SRC, file)} -> ${target}`),
  )

test('bench/ imports nothing from aws/ or the local target', () => {
  assert.equal(violations('bench', /^(aws\/|targets\/local$|targets\/aws$|local\/)/), [])
})

test('aws/ imports nothing from targets/', () => {
  assert.equal(violations('aws', /^targets\//), [])
})

test('core/ imports nothing outside core/; docker/ and aws/ only core/; local/ only core/ and docker/', () => {
  assert.equal(violations('core', /^(?!core\/)/), [])
  assert.equal(violations('docker', /^(?!core\/|docker\/)/), [])
  assert.equal(violations('aws', /^(?!core\/|aws\/)/), [])
  assert.equal(violations('local', /^(?!core\/|docker\/|local\/)/), [])
})

/** Folder -> the folders its files import (each folder of src/ is a layer). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  for (const file of sources('.')) {
    const from = relative(SRC, file).split('/')[0]!
    for (const to of importsOf(file).map((t) => t.split('/')[0]!))
      if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to)
  }
  return graph
}

test('folders import one another one way only (no cycle between folders of src/)', () => {
  const graph = folderGraph()
  const cycles: string[] = []
  const visit = (folder: string, path: string[]) => {
    for (const next of graph.get(folder) ?? []) {
      if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '))
      else visit(next, [...path, next])
    }
  }
  for (const folder of graph.keys()) visit(folder, [folder])
  assert.equal(cycles, [])
  assert.ok(graph.get('commands')?.has('core'), 'the graph sees folder imports at all')
})

/** What only a target may use: AWS adapters, the local service, the local S3 store and the targets themselves. */
const TARGET_ONLY = /^(aws\/|local\/|storage\/local-s3$|targets\/(aws|local|serve-host)$)/

/** AWS SDK clients a text imports for more than their types (a type-only S3Client is how S3 helpers are typed). */
const sdkValueImports = (text: string): string[] =>
  [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(@aws-sdk\/client-[\w-]+)'/gms)]
    .filter((m) => !m[1])
    .map((m) => m[2]!)

const sdkClients = (dir: string) =>
  sources(dir).flatMap((file) =>
    sdkValueImports(readFileSync(file, 'utf8')).map((client) => `${relative(SRC, file)} -> ${client}`),
  )

/** The commands that are the local service's (faas local ...) or ECR's own are the exception. */
const commandSources = () =>
  sources('commands').filter((file) => !/commands\/(local\/|create_ecr_repo\.ts$)/.test(file))

for (const dir of ['run', 'bench', 'experiments', 'services']) {
  test(`${dir}/ reaches AWS and the local service only through a target`, () => {
    assert.equal(violations(dir, TARGET_ONLY), [])
    assert.equal(sdkClients(dir), [])
  })
}

test('commands reach AWS and the local service only through a target', () => {
  const files = commandSources()
  assert.ok(files.some((f) => f.endsWith('serve.ts')) && files.some((f) => f.endsWith('experiment/run.ts')))
  const found = files.flatMap((file) =>
    importsOf(file)
      .filter((target) => TARGET_ONLY.test(target))
      .map((target) => `${relative(SRC, file)} -> ${target}`),
  )
  assert.equal(found, [])
  assert.equal(
    sdkClients('commands').filter((v) => !/^commands\/(local\/|create_ecr_repo)/.test(v)),
    [],
  )
})

test('the SDK check sees value imports and lets type-only ones pass', () => {
  const text = [
    "import type {S3Client} from '@aws-sdk/client-s3'",
    "import {\n  IAMClient,\n  type Role,\n} from '@aws-sdk/client-iam'",
    "import {SchedulerClient} from '@aws-sdk/client-scheduler'",
  ].join('\n')
  assert.equal(sdkValueImports(text), ['@aws-sdk/client-iam', '@aws-sdk/client-scheduler'])
})

test('the check sees imports at all (bench/ uses the Target interface and core/)', () => {
  const all = sources('bench').flatMap(importsOf)
  assert.ok(all.includes('targets/target'), 'bench/reconfigure.ts imports targets/target')
  assert.ok(all.includes('core/records'))
})

test.run()
