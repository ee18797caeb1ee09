// The layering issue 13 asks for, checked on the sources: bench/ drives functions only through the
// Target interface (nothing from aws/ or the local target), and aws/ adapters never reach up into targets/.
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

test('the check sees imports at all (bench/ uses the Target interface and core/)', () => {
  const all = sources('bench').flatMap(importsOf)
  assert.ok(all.includes('targets/target'), 'bench/reconfigure.ts imports targets/target')
  assert.ok(all.includes('core/records'))
})

test.run()
