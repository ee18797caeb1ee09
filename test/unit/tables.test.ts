import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {parseManifest, resolveEnv} from '../../src/core/manifest.js'
import {resolvePolicies, TABLES_BUNDLE, tablesBundle} from '../../src/core/policies.js'
import {parseTables} from '../../src/core/tables.js'
import {destroyPlan} from '../../src/services/deploy.js'

function throwsUser(fn: () => unknown, pattern: RegExp): void {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    return
  }
  assert.unreachable('expected a UserError')
}

/** The seed's two tables, as a benchmark declares them. */
const SEED_TABLES = {
  stateflow: {partitionKey: {name: 'key', type: 'S'}},
  DynamoDBLockTable: {
    partitionKey: {name: 'lock_key', type: 'S'},
    sortKey: {name: 'sort_key', type: 'S'},
    ttlAttribute: 'expiry_time',
  },
}

test('parseTables: keys, sort keys and TTL as declared', () => {
  assert.equal(parseTables(SEED_TABLES, 'benchmark.json'), [
    {name: 'stateflow', partitionKey: {name: 'key', type: 'S'}},
    {
      name: 'DynamoDBLockTable',
      partitionKey: {name: 'lock_key', type: 'S'},
      sortKey: {name: 'sort_key', type: 'S'},
      ttlAttribute: 'expiry_time',
    },
  ])
  assert.equal(parseTables(undefined, 'benchmark.json'), [])
})

test('parseTables: invalid key schemas are refused, naming the table and the fix', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /"tables" must be an object/],
    [{ab: {partitionKey: {name: 'k', type: 'S'}}}, /table "ab" is not a DynamoDB table name/],
    [{t1x: {}}, /t1x's partitionKey must be \{"name"/],
    [{t1x: {partitionKey: {name: 'k', type: 'string'}}}, /type "string"; a key's type is "S", "N" or "B"/],
    [{t1x: {partitionKey: {name: 'k', type: 'S'}, sortKey: {name: 'k', type: 'N'}}}, /both "k"; they must differ/],
    [{t1x: {partitionKey: {name: 'k', type: 'S'}, billing: 'PROVISIONED'}}, /unknown key\(s\) billing/],
    [{t1x: {partitionKey: {name: 'k', type: 'S'}, ttlAttribute: 3}}, /ttlAttribute must be an attribute name/],
  ]
  for (const [raw, pattern] of cases) throwsUser(() => parseTables(raw, 'benchmark.json'), pattern)
})

test('a function env names a declared table as ${table:NAME}; an undeclared one is refused', () => {
  const manifest = parseManifest(
    {name: 'stateful', tables: SEED_TABLES, functions: {api: {env: {TABLE: '${table:stateflow}'}}}},
    '/tmp/stateful',
  )
  assert.equal(resolveEnv(manifest, manifest.functions[0]!), {TABLE: 'stateflow'})
  throwsUser(
    () => parseManifest({name: 'stateful', functions: {api: {env: {TABLE: '${table:nope}'}}}}, '/tmp/stateful'),
    /env TABLE of api refers to \$\{table:nope\}, which the manifest does not declare/,
  )
})

test('access_dynamodb grants item and transaction actions on exactly the declared tables and their indexes', () => {
  const bundle = tablesBundle(['stateflow', 'DynamoDBLockTable'], 'us-east-1')
  assert.is(bundle.name, TABLES_BUNDLE)
  const [statement] = bundle.document!.Statement
  assert.equal(statement!.Resource, [
    'arn:aws:dynamodb:us-east-1:*:table/stateflow',
    'arn:aws:dynamodb:us-east-1:*:table/stateflow/index/*',
    'arn:aws:dynamodb:us-east-1:*:table/DynamoDBLockTable',
    'arn:aws:dynamodb:us-east-1:*:table/DynamoDBLockTable/index/*',
  ])
  const actions = statement!.Action as string[]
  for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'])
    assert.ok(actions.includes(action), action)
  assert.not.ok(
    actions.some((a) => /\*|DeleteTable|CreateTable/.test(a)),
    'no table-level or wildcard action',
  )
  // Without declared tables (the seed's one-function form) there is nothing to grant: said so, not "unknown".
  throwsUser(() => resolvePolicies([TABLES_BUNDLE]), /grants a benchmark's declared tables, and none are declared/)
})

test('destroy --tables needs a benchmark, and deletes tables only when asked', async () => {
  const error = await destroyPlan({functionNames: ['f'], tables: true}).catch((e) => e)
  assert.instance(error, UserError)
  assert.match(error.paragraph, /--tables deletes the tables a benchmark declares/)
  assert.equal((await destroyPlan({benchmark: 'map-reduce'})).tables, [])
})

test.run()
