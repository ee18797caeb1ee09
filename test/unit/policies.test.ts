import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {BUILTIN_BUNDLES, loadPolicyBundles, parsePolicyList, resolvePolicies} from '../../src/core/policies.js'
import {UserError} from '../../src/core/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'faas-policies-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function throwsUser(fn: () => unknown, pattern: RegExp): UserError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    return error as UserError
  }
  throw new Error('expected a UserError')
}

test('the seed bundles carry the seed documents', () => {
  const bundles = loadPolicyBundles()
  assert.equal(bundles.get('access_s3')!.document!.Statement, [
    {Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*'},
  ])
  assert.equal(bundles.get('invoke_function')!.document!.Statement, [
    {Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['*']},
  ])
  assert.equal(
    BUILTIN_BUNDLES.map((b) => b.name),
    ['access_s3', 'invoke_function'],
  )
})

test('the seed --policies list splits on commas, trims and drops duplicates and blanks', () => {
  assert.equal(parsePolicyList('access_s3, invoke_function,,access_s3'), ['access_s3', 'invoke_function'])
  assert.equal(parsePolicyList(undefined), [])
})

test('an unknown bundle is an error listing the known ones', () => {
  const error = throwsUser(
    () => resolvePolicies(['access_s3', 'access_dynamo']),
    /Unknown policy bundle: access_dynamo/,
  )
  assert.is(error.code, 'UNKNOWN_POLICY')
  assert.match(error.paragraph, 'Known bundles: access_s3, invoke_function')
})

test("a user's JSON file adds inline and managed bundles", () => {
  const path = file(
    'ok.json',
    JSON.stringify({
      read_dynamo: {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*'}]},
      xray: {managedArn: 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess'},
    }),
  )
  const bundles = loadPolicyBundles(path)
  const [dynamo, xray, s3] = resolvePolicies(['read_dynamo', 'xray', 'access_s3'], bundles)
  assert.equal(dynamo!.document!.Statement[0], {Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*'})
  assert.is(xray!.managedArn, 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess')
  assert.is(s3!.name, 'access_s3')
  throwsUser(() => resolvePolicies(['nope'], bundles), /Known bundles: access_s3, invoke_function, read_dynamo, xray/)
})

test('a bad policy file is a clear error', () => {
  throwsUser(() => loadPolicyBundles(join(dir, 'missing.json')), /missing\.json: no such file/)
  throwsUser(() => loadPolicyBundles(file('syntax.json', '{nope')), /not valid JSON/)
  throwsUser(() => loadPolicyBundles(file('array.json', '[]')), /top level must be an object/)
  throwsUser(
    () => loadPolicyBundles(file('shape.json', '{"x": {"Statement": []}}')),
    /"x" is neither a policy document/,
  )
  throwsUser(() => loadPolicyBundles(file('arn.json', '{"x": {"managedArn": "not-an-arn"}}')), /not an IAM policy ARN/)
  throwsUser(
    () => loadPolicyBundles(file('name.json', '{"bad name": {"managedArn": "arn:aws:iam::aws:policy/X"}}')),
    /not a valid policy name/,
  )
})

test.run()
