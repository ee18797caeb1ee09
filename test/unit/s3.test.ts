// Bucket access errors a local S3 store cannot produce on demand: SDK client mocks.
import {CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException} from '@aws-sdk/client-s3'
import {mockClient} from 'aws-sdk-client-mock'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {ensureBucket} from '../../src/storage/s3.js'

const s3 = new S3Client({region: 'us-east-1', credentials: {accessKeyId: 'a', secretAccessKey: 'b'}})
const mock = mockClient(s3)
const httpError = (status: number, name: string) =>
  new S3ServiceException({name, $fault: 'client', $metadata: {httpStatusCode: status}, message: name})

test.after.each(() => {
  mock.reset()
})
test.after(() => mock.restore())

test('a bucket someone else owns (403) is a clear error, and nothing is created', async () => {
  mock.on(HeadBucketCommand).rejects(httpError(403, 'Forbidden'))
  const error = await ensureBucket(s3, 'theirs', 'us-east-1').catch((e) => e)
  assert.instance(error, UserError)
  assert.match(
    error.paragraph,
    /The S3 bucket theirs exists but these credentials may not use it.*--bucket.*s3:PutObject/s,
  )
  assert.is(mock.commandCalls(CreateBucketCommand).length, 0)
})

test('a bucket in another region (301) says so', async () => {
  mock.on(HeadBucketCommand).rejects(httpError(301, 'PermanentRedirect'))
  const error = await ensureBucket(s3, 'elsewhere', 'us-east-1').catch((e) => e)
  assert.match(error.paragraph, /in another region/)
})

test('a missing bucket is created (with a location outside us-east-1); an existing one is left alone', async () => {
  mock.on(HeadBucketCommand).rejects(httpError(404, 'NotFound'))
  mock.on(CreateBucketCommand).resolves({})
  assert.is(await ensureBucket(s3, 'mine', 'eu-west-1'), 'created')
  assert.equal(mock.commandCalls(CreateBucketCommand)[0]!.args[0].input, {
    Bucket: 'mine',
    CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'},
  })
  mock.reset()
  mock.on(HeadBucketCommand).resolves({})
  assert.is(await ensureBucket(s3, 'mine', 'eu-west-1'), 'exists')
  assert.is(mock.commandCalls(CreateBucketCommand).length, 0)
})

test('AccessDenied on create names the missing permission', async () => {
  mock.on(HeadBucketCommand).rejects(httpError(404, 'NotFound'))
  mock.on(CreateBucketCommand).rejects(
    Object.assign(httpError(403, 'AccessDenied'), {
      message: 'User: arn:aws:iam::1:user/x is not authorized to perform: s3:CreateBucket',
    }),
  )
  const error = await ensureBucket(s3, 'mine', 'us-east-1').catch((e) => e)
  assert.instance(error, UserError)
  assert.match(error.paragraph, /Grant the caller the s3:CreateBucket permission/)
})

test.run()
