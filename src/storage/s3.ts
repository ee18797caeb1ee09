import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'

import {S3Client as S3} from '@aws-sdk/client-s3'

import {createAwsClients} from '../aws/clients.js'
import {aws} from '../aws/errors.js'
import {resolveAccountId} from '../aws/sts.js'
import {UserError} from '../core/errors.js'
import type {Settings} from '../core/settings.js'
import {localS3Endpoint} from './local-s3.js'

/** The S3 a target's functions use: the account's, or the local store (any credentials do there). */
export function s3For(kind: 'local' | 'aws', settings: Settings): S3Client {
  if (kind === 'aws') return createAwsClients(settings).s3
  return new S3({
    endpoint: localS3Endpoint(),
    region: settings.region ?? 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'local', secretAccessKey: 'local'},
  })
}

/** Where `faas run` keeps input and output unless told otherwise: one bucket per account and region on AWS. */
export async function defaultRunBucket(kind: 'local' | 'aws', settings: Settings): Promise<string> {
  if (kind === 'local') return 'faas-runs'
  const clients = createAwsClients(settings)
  return `faas-runs-${await resolveAccountId(settings, clients)}-${clients.region}`
}

/** Makes the bucket unless it exists and is ours; says clearly when it is someone else's or forbidden. */
export async function ensureBucket(s3: S3Client, bucket: string, region: string): Promise<'created' | 'exists'> {
  const status = await s3.send(new HeadBucketCommand({Bucket: bucket})).then(
    () => 200,
    (error: {$metadata?: {httpStatusCode?: number}; name?: string}) => {
      const code = error.$metadata?.httpStatusCode
      if (code === 404 || code === 403 || code === 301) return code
      throw error
    },
  )
  if (status === 200) return 'exists'
  if (status === 403 || status === 301) {
    throw new UserError(
      `The S3 bucket ${bucket} exists but these credentials may not use ` +
        `it${status === 301 ? ' (it is in another region)' : ''}.`,
      {
        code: 'BUCKET_ACCESS',
        fix: 'Choose another bucket with --bucket, or grant s3:ListBucket, s3:GetObject and s3:PutObject on it.',
      },
    )
  }
  await aws(`create S3 bucket ${bucket}`, () =>
    s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : {CreateBucketConfiguration: {LocationConstraint: region as never}}),
      }),
    ),
  )
  return 'created'
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, number>> {
  const keys = new Map<string, number>()
  await aws(`list s3://${bucket}/${prefix}`, async () => {
    for await (const page of paginateListObjectsV2({client: s3}, {Bucket: bucket, Prefix: prefix}))
      for (const item of page.Contents ?? []) keys.set(item.Key!, item.Size ?? 0)
  })
  return keys
}

/** Uploads the objects that are missing or differ in size; returns the bytes sent. */
export async function uploadMissing(
  s3: S3Client,
  bucket: string,
  objects: Array<{key: string; body: string | Uint8Array; contentType?: string}>,
): Promise<number> {
  const prefix = commonPrefix(objects.map((o) => o.key))
  const held = await listKeys(s3, bucket, prefix)
  const missing = objects.filter((o) => held.get(o.key) !== Buffer.byteLength(o.body))
  let sent = 0
  for (let i = 0; i < missing.length; i += 8) {
    await Promise.all(
      missing.slice(i, i + 8).map(async (o) => {
        await aws(`upload s3://${bucket}/${o.key}`, () =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: o.key,
              Body: o.body,
              ContentType: o.contentType ?? 'text/plain',
            }),
          ),
        )
        sent += Buffer.byteLength(o.body)
      }),
    )
  }
  return sent
}

export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await aws(`read s3://${bucket}/${key}`, () =>
    s3.send(new GetObjectCommand({Bucket: bucket, Key: key})),
  )
  return object.Body!.transformToString('utf8')
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await aws(`read s3://${bucket}/${key}`, () =>
    s3.send(new GetObjectCommand({Bucket: bucket, Key: key})),
  )
  return object.Body!.transformToByteArray()
}

/** Deletes every object, then the bucket; an absent bucket is fine. */
export async function deleteBucket(s3: S3Client, bucket: string): Promise<'deleted' | 'absent'> {
  const keys = await listKeys(s3, bucket, '').catch((error: {name?: string}) => {
    if (error?.name === 'NoSuchBucket') return undefined
    throw error
  })
  if (!keys) return 'absent'
  const all = [...keys.keys()]
  for (let i = 0; i < all.length; i += 1000) {
    await aws(`empty S3 bucket ${bucket}`, () =>
      s3.send(
        new DeleteObjectsCommand({Bucket: bucket, Delete: {Objects: all.slice(i, i + 1000).map((Key) => ({Key}))}}),
      ),
    )
  }
  await aws(`delete S3 bucket ${bucket}`, () => s3.send(new DeleteBucketCommand({Bucket: bucket})))
  return 'deleted'
}

function commonPrefix(keys: string[]): string {
  if (keys.length === 0) return ''
  let prefix = keys[0]!
  for (const key of keys) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1)
  return prefix
}
