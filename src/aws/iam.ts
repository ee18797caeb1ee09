import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  paginateListRoleTags,
  TagRoleCommand,
  UntagRoleCommand,
  type IAMClient,
} from '@aws-sdk/client-iam'

import {BASIC_EXECUTION_ROLE_ARN, LAMBDA_TRUST_POLICY, type PolicyBundle} from '../core/policies.js'
import {UserError} from '../core/errors.js'
import {aws} from './errors.js'

/** Tag faas puts on what it creates, so destroy removes only its own roles. */
export const MANAGED_TAG = {Key: 'managed-by', Value: 'faas'} as const

const notFound = (error: {name?: string}) => error?.name === 'NoSuchEntityException' || error?.name === 'NoSuchEntity'

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call
  } catch (error) {
    if (notFound(error as {name?: string})) return undefined
    throw error
  }
}

export interface RoleOutcome {
  name: string
  arn: string
  created: boolean
  /** What was written: "role", "inline:<bundle>", "attached:<arn>". Empty when all was in place. */
  writes: string[]
}

/** Tag key marking an inline policy faas put on a role (and so may correct or remove). */
const INLINE_TAG_PREFIX = 'faas-inline:'
const TAGGABLE = /^[\w.:/=+@-]{1,115}$/

/**
 * The role `name`, trusted by Lambda, holding the bundles and AWSLambdaBasicExecutionRole.
 * A role faas made (tagged managed-by=faas) converges on the bundles: a missing or changed
 * inline document is put, an inline policy faas put for a bundle no longer asked for is
 * deleted; inline policies faas did not put are never touched. A role faas did not make is
 * used only when named with --role (`named`), and then as it is: never modified.
 */
export async function ensureRole(
  iam: IAMClient,
  name: string,
  bundles: PolicyBundle[],
  options: {named?: boolean} = {},
): Promise<RoleOutcome> {
  const writes: string[] = []
  const existing = await aws(`read IAM role ${name} (iam:GetRole)`, () =>
    orUndefined(iam.send(new GetRoleCommand({RoleName: name}))),
  )
  let arn = existing?.Role?.Arn
  let managedInline = new Set<string>()
  if (arn) {
    const tags = await roleTags(iam, name)
    if (!tags.some((t) => t.Key === MANAGED_TAG.Key && t.Value === MANAGED_TAG.Value)) {
      if (options.named) return {name, arn, created: false, writes}
      throw new UserError(
        `The IAM role ${name} exists but faas did not create it (it has no ${MANAGED_TAG.Key}=${MANAGED_TAG.Value} ` +
          `tag); faas neither uses nor changes it unasked.`,
        {
          code: 'FOREIGN_ROLE',
          fix:
            `To run the function with that role as it is, name it: --role ${name}. Otherwise remove the role or ` +
            `deploy under another function name.`,
        },
      )
    }
    managedInline = new Set(
      tags.filter((t) => t.Key?.startsWith(INLINE_TAG_PREFIX)).map((t) => t.Key!.slice(INLINE_TAG_PREFIX.length)),
    )
  } else {
    arn = await createRole(iam, name)
    writes.push('role')
  }
  const inline = bundles.filter((b) => b.document)
  writes.push(...(await convergeInline(iam, name, inline, managedInline)))
  writes.push(...(await attachManaged(iam, name, bundles)))
  return {name, arn, created: writes.includes('role'), writes}
}

/** A new role trusted by Lambda and tagged as faas's; its ARN. */
async function createRole(iam: IAMClient, name: string): Promise<string> {
  const made = await aws(`create IAM role ${name} (iam:CreateRole)`, () =>
    iam
      .send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: JSON.stringify(LAMBDA_TRUST_POLICY),
          Description: 'Execution role of a faas function',
          Tags: [MANAGED_TAG],
        }),
      )
      .catch(async (error: {name?: string}) => {
        // Another deploy made it between our read and our create: converge.
        if (error?.name === 'EntityAlreadyExistsException') return iam.send(new GetRoleCommand({RoleName: name}))
        throw error
      }),
  )
  return made.Role!.Arn!
}

/**
 * Puts each inline bundle whose document is missing or changed, deletes the inline policies faas put for bundles no
 * longer asked for, and keeps the role's faas-inline tags in step. What it wrote.
 */
async function convergeInline(
  iam: IAMClient,
  name: string,
  inline: PolicyBundle[],
  managedInline: Set<string>,
): Promise<string[]> {
  const writes: string[] = []
  const have = new Set(await listInline(iam, name))
  for (const bundle of inline) {
    if (have.has(bundle.name) && sameDocument(await inlineDocument(iam, name, bundle.name), bundle.document!)) continue
    await aws(`put policy ${bundle.name} on role ${name} (iam:PutRolePolicy)`, () =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: name,
          PolicyName: bundle.name,
          PolicyDocument: JSON.stringify(bundle.document),
        }),
      ),
    )
    writes.push(`inline:${bundle.name}`)
  }
  const untag = [...managedInline].filter((p) => !inline.some((b) => b.name === p))
  for (const policy of untag.filter((p) => have.has(p))) {
    await aws(`delete policy ${policy} of role ${name} (iam:DeleteRolePolicy)`, () =>
      orUndefined(iam.send(new DeleteRolePolicyCommand({RoleName: name, PolicyName: policy}))),
    )
    writes.push(`removed:${policy}`)
  }
  const tag = inline.map((b) => b.name).filter((p) => !managedInline.has(p) && TAGGABLE.test(p))
  if (tag.length > 0) {
    await aws(`tag role ${name} (iam:TagRole)`, () =>
      iam.send(
        new TagRoleCommand({
          RoleName: name,
          Tags: tag.map((p) => ({Key: `${INLINE_TAG_PREFIX}${p}`, Value: 'inline'})),
        }),
      ),
    )
  }
  if (untag.length > 0) {
    await aws(`untag role ${name} (iam:UntagRole)`, () =>
      iam.send(new UntagRoleCommand({RoleName: name, TagKeys: untag.map((p) => `${INLINE_TAG_PREFIX}${p}`)})),
    )
  }
  return writes
}

/** Attaches AWSLambdaBasicExecutionRole and the bundles' managed policies the role lacks. What it wrote. */
async function attachManaged(iam: IAMClient, name: string, bundles: PolicyBundle[]): Promise<string[]> {
  const writes: string[] = []
  const wanted = [BASIC_EXECUTION_ROLE_ARN, ...bundles.flatMap((b) => (b.managedArn ? [b.managedArn] : []))]
  const attached = new Set(await listAttached(iam, name))
  for (const policyArn of wanted.filter((a) => !attached.has(a))) {
    await aws(`attach ${policyArn} to role ${name} (iam:AttachRolePolicy)`, () =>
      iam
        .send(new AttachRolePolicyCommand({RoleName: name, PolicyArn: policyArn}))
        .catch((error: {name?: string; message?: string}) => {
          if (notFound(error))
            throw new UserError(`The managed policy ${policyArn} does not exist: ${error.message}`, {
              code: 'NO_SUCH_POLICY',
              fix: 'Check the managedArn in your policy bundle file (faas deploy --policies-file).',
            })
          throw error
        }),
    )
    writes.push(`attached:${policyArn}`)
  }
  return writes
}

async function roleTags(iam: IAMClient, role: string): Promise<Array<{Key?: string; Value?: string}>> {
  const tags: Array<{Key?: string; Value?: string}> = []
  await aws(`list tags of role ${role} (iam:ListRoleTags)`, async () => {
    for await (const page of paginateListRoleTags({client: iam}, {RoleName: role})) tags.push(...(page.Tags ?? []))
  })
  return tags
}

async function inlineDocument(iam: IAMClient, role: string, policy: string): Promise<unknown> {
  const out = await aws(`read policy ${policy} of role ${role} (iam:GetRolePolicy)`, () =>
    orUndefined(iam.send(new GetRolePolicyCommand({RoleName: role, PolicyName: policy}))),
  )
  if (!out?.PolicyDocument) return undefined
  try {
    // IAM returns documents URL-encoded.
    return JSON.parse(decodeURIComponent(out.PolicyDocument))
  } catch {
    return undefined
  }
}

/** Same policy, whatever the key order or whitespace IAM gives back. */
function sameDocument(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
}

async function listInline(iam: IAMClient, role: string): Promise<string[]> {
  const names: string[] = []
  await aws(`list policies of role ${role} (iam:ListRolePolicies)`, async () => {
    for await (const page of paginateListRolePolicies({client: iam}, {RoleName: role}))
      names.push(...(page.PolicyNames ?? []))
  })
  return names
}

async function listAttached(iam: IAMClient, role: string): Promise<string[]> {
  const arns: string[] = []
  await aws(`list policies attached to role ${role} (iam:ListAttachedRolePolicies)`, async () => {
    for await (const page of paginateListAttachedRolePolicies({client: iam}, {RoleName: role}))
      arns.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn!))
  })
  return arns
}

/** What a role holds, for reading back after a deploy. */
export async function describeRole(
  iam: IAMClient,
  name: string,
): Promise<{arn: string; inline: string[]; attached: string[]; managedByFaas: boolean} | undefined> {
  const role = await aws(`read IAM role ${name} (iam:GetRole)`, () =>
    orUndefined(iam.send(new GetRoleCommand({RoleName: name}))),
  )
  if (!role?.Role) return undefined
  const tags = await aws(`list tags of role ${name} (iam:ListRoleTags)`, () =>
    iam.send(new ListRoleTagsCommand({RoleName: name})),
  )
  return {
    arn: role.Role.Arn!,
    inline: await listInline(iam, name),
    attached: await listAttached(iam, name),
    managedByFaas: (tags.Tags ?? []).some((t) => t.Key === MANAGED_TAG.Key && t.Value === MANAGED_TAG.Value),
  }
}

/**
 * Deletes a role faas made: inline policies, then detaches managed ones, then the role.
 * 'absent' when there is no such role; 'kept' when it exists but faas did not make it.
 */
export async function deleteRole(iam: IAMClient, name: string): Promise<'deleted' | 'absent' | 'kept'> {
  const role = await describeRole(iam, name)
  if (!role) return 'absent'
  if (!role.managedByFaas) return 'kept'
  for (const policy of role.inline) {
    await aws(`delete policy ${policy} of role ${name} (iam:DeleteRolePolicy)`, () =>
      orUndefined(iam.send(new DeleteRolePolicyCommand({RoleName: name, PolicyName: policy}))),
    )
  }
  for (const arn of role.attached) {
    await aws(`detach ${arn} from role ${name} (iam:DetachRolePolicy)`, () =>
      orUndefined(iam.send(new DetachRolePolicyCommand({RoleName: name, PolicyArn: arn}))),
    )
  }
  await aws(`delete IAM role ${name} (iam:DeleteRole)`, () =>
    orUndefined(iam.send(new DeleteRoleCommand({RoleName: name}))),
  )
  return 'deleted'
}
