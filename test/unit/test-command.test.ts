import {execa} from 'execa'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {PROJECT_ROOT} from '../../src/core/paths.js'

test('the test command fails when uvu swallows an exception thrown in a before hook', async () => {
  const run = await execa('bash', ['scripts/test.sh', 'test/fixtures/uvu-hook-failure'], {
    cwd: PROJECT_ROOT,
    reject: false,
    env: {FAAS_TEST_NO_BUILD: '1'},
  })
  const out = `${run.stdout}\n${run.stderr}`
  assert.is.not(run.exitCode, 0, out)
  // The preload names the default suite's hook error; the totals check catches the named suite too.
  assert.match(out, /before hook failed: Error: boom in before/)
  assert.match(out, /3 test\(s\) in test\/fixtures\/uvu-hook-failure never ran and reported no failure/)
  assert.match(out, /0 passed, 3 failed/)
})

test.run()
