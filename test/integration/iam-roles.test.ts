import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {deleteRole, ensureRole} from '../../src/aws/iam.js'
import {BUILTIN_BUNDLES, LAMBDA_TRUST_POLICY, type PolicyBundle} from '../../src/core/policies.js'
import {startMoto} from '../helpers/moto.js'

/** Roles against the moto emulator: faas changes only roles it made, and converges their inline policies. */
const moto = await startMoto()
const iam = new IAMClient({
  endpoint: moto.url,
  region: 'us-east-1',
  credentials: {accessKeyId: 'testing', secretAccessKey: 'testing'},
})
const suffix = `${process.pid}-${Date.now().toString(36)}`
const [accessS3, invokeFunction] = BUILTIN_BUNDLES as PolicyBundle[]
const inlineOf = async (role: string) =>
  ((await iam.send(new ListRolePoliciesCommand({RoleName: role}))).PolicyNames ?? []).sort()
const documentOf = async (role: string, policy: string) =>
  JSON.parse(
    decodeURIComponent(
      (await iam.send(new GetRolePolicyCommand({RoleName: role, PolicyName: policy}))).PolicyDocument!,
    ),
  )
const userDoc = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: '*'}]}

test('a role faas did not make is refused unless named with --role, and is never modified', async () => {
  const role = `h3-foreign-${suffix}`
  await iam.send(new CreateRoleCommand({RoleName: role, AssumeRolePolicyDocument: JSON.stringify(LAMBDA_TRUST_POLICY)}))
  await iam.send(
    new PutRolePolicyCommand({RoleName: role, PolicyName: 'mine', PolicyDocument: JSON.stringify(userDoc)}),
  )
  try {
    try {
      await ensureRole(iam, role, [accessS3!])
      assert.unreachable('a foreign role must not be used unasked')
    } catch (error) {
      assert.is((error as {code?: string}).code, 'FOREIGN_ROLE')
      assert.match((error as Error).message, /did not create it/)
    }
    const named = await ensureRole(iam, role, [accessS3!, invokeFunction!], {named: true})
    assert.equal(named.writes, [], 'named with --role: used as it is')
    assert.equal(await inlineOf(role), ['mine'], 'nothing was added or removed')
    assert.is(await deleteRole(iam, role), 'kept', 'destroy keeps it too')
  } finally {
    await iam.send(new DeleteRolePolicyCommand({RoleName: role, PolicyName: 'mine'})).catch(() => {})
    await iam.send(new DeleteRoleCommand({RoleName: role})).catch(() => {})
  }
})

test('IAM drift converges: changed bundle corrected, dropped bundle removed, a foreign policy kept', async () => {
  const role = `h3-drift-${suffix}`
  try {
    const first = await ensureRole(iam, role, [accessS3!, invokeFunction!])
    assert.ok(first.created)
    assert.equal(await inlineOf(role), ['access_s3', 'invoke_function'])
    // Someone adds their own policy to the role; faas must leave it alone.
    await iam.send(
      new PutRolePolicyCommand({RoleName: role, PolicyName: 'user_extra', PolicyDocument: JSON.stringify(userDoc)}),
    )
    assert.equal(
      (await ensureRole(iam, role, [accessS3!, invokeFunction!])).writes,
      [],
      'nothing differs: nothing written',
    )

    const narrowed: PolicyBundle = {
      ...accessS3!,
      document: {
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::data/*'}],
      },
    }
    const second = await ensureRole(iam, role, [narrowed])
    assert.equal(second.writes.sort(), ['inline:access_s3', 'removed:invoke_function'])
    assert.equal(await inlineOf(role), ['access_s3', 'user_extra'])
    assert.equal(
      (await documentOf(role, 'access_s3')).Statement[0].Action,
      ['s3:GetObject'],
      'the changed document is what the role holds now',
    )
    assert.equal((await ensureRole(iam, role, [narrowed])).writes, [], 'converged: a rerun writes nothing')

    // Drift made by hand on a faas-managed policy is corrected back too.
    await iam.send(
      new PutRolePolicyCommand({RoleName: role, PolicyName: 'access_s3', PolicyDocument: JSON.stringify(userDoc)}),
    )
    assert.equal((await ensureRole(iam, role, [narrowed])).writes, ['inline:access_s3'])
    assert.equal(await inlineOf(role), ['access_s3', 'user_extra'])
  } finally {
    await deleteRole(iam, role).catch(() => {})
  }
})

test.after(() => moto.stop())

test.run()
