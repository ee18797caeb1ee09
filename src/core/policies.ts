import {readFileSync} from 'node:fs'

import {UserError, messageOf} from './errors.js'

/**
 * Named IAM policy bundles a function's role can hold. Every role also gets the AWS managed
 * AWSLambdaBasicExecutionRole (CloudWatch Logs). Bundles with a `document` become inline role
 * policies of the same name (PutRolePolicy); bundles with a `managedArn` are attached.
 * To add a bundle, add an entry here, or give users' own in a JSON file (see loadPolicyBundles).
 */
export interface PolicyBundle {
  name: string
  description: string
  /** An IAM policy document, put inline on the role under the bundle's name. */
  document?: PolicyDocument
  /** An existing (AWS or customer) managed policy, attached to the role. */
  managedArn?: string
}

export interface PolicyDocument {
  Version: string
  Statement: Array<Record<string, unknown>>
}

export const BASIC_EXECUTION_ROLE_ARN = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'

/** Who may assume a function's role: Lambda. */
export const LAMBDA_TRUST_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
}

/** The seed's bundles (aws_actions.py policy_jsons), same documents. */
export const BUILTIN_BUNDLES: readonly PolicyBundle[] = [
  {
    name: 'access_s3',
    description: 'Full access to S3 and S3 Object Lambda (map-reduce reads and writes its data there).',
    document: {
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Action: ['s3:*', 's3-object-lambda:*'], Resource: '*'}],
    },
  },
  {
    name: 'invoke_function',
    description: 'lambda:InvokeFunction on any function (a driver invoking its mappers and reducers).',
    document: {
      Version: '2012-10-17',
      Statement: [{Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['*']}],
    },
  },
]

const BUNDLE_NAME = /^[\w+=,.@-]{1,128}$/

/**
 * The built-in bundles plus a user's own from a JSON file (FAAS_POLICIES_FILE or --policies-file):
 * `{"<name>": {"Version": "2012-10-17", "Statement": [...]}}` for an inline document, or
 * `{"<name>": {"managedArn": "arn:aws:iam::...:policy/..."}}` for a managed policy. A user bundle
 * with a built-in's name replaces it.
 */
/** One entry of a --policies file, as written: checked field by field before it becomes a bundle. */
interface PolicyFileEntry {
  managedArn?: unknown
  description?: unknown
  Version?: unknown
  Statement?: unknown
}

export function loadPolicyBundles(file?: string): Map<string, PolicyBundle> {
  const bundles = new Map(BUILTIN_BUNDLES.map((b) => [b.name, b]))
  if (!file) return bundles
  const bad = (what: string) =>
    new UserError(`Policy file ${file}: ${what}.`, {
      code: 'BAD_POLICY_FILE',
      fix:
        'Write an object of bundle name to an IAM policy document ({"Version":"2012-10-17","Statement":[...]}' +
        ') or to {"managedArn":"arn:aws:iam::..."}.',
    })
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw bad(
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${messageOf(error)})`,
    )
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('the top level must be an object')
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (!BUNDLE_NAME.test(name))
      throw bad(`"${name}" is not a valid policy name (letters, digits and +=,.@_-, up to 128)`)
    const value: PolicyFileEntry = typeof entry === 'object' && entry !== null ? entry : {}
    if (typeof value.managedArn === 'string') {
      if (!/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\//.test(value.managedArn))
        throw bad(`"${name}".managedArn is not an IAM policy ARN`)
      bundles.set(name, {
        name,
        description: typeof value.description === 'string' ? value.description : 'user bundle (managed policy)',
        managedArn: value.managedArn,
      })
    } else if (typeof value.Version === 'string' && Array.isArray(value.Statement) && value.Statement.length > 0) {
      bundles.set(name, {
        name,
        description: 'user bundle (inline policy)',
        document: {Version: value.Version, Statement: value.Statement},
      })
    } else {
      throw bad(`"${name}" is neither a policy document with Version and Statement nor {"managedArn": ...}`)
    }
  }
  return bundles
}

/** Splits the seed's comma-separated --policies value; empty entries are dropped. */
export const parsePolicyList = (value: string | undefined): string[] => [
  ...new Set(
    (value ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  ),
]

/** The bundle that grants a benchmark's functions its declared DynamoDB tables, and only those. */
export const TABLES_BUNDLE = 'access_dynamodb'

/** The item, query and transaction actions on exactly these tables and their indexes (transactions need no others). */
export function tablesBundle(tables: string[], region = '*'): PolicyBundle {
  const arns = tables.flatMap((t) => [
    `arn:aws:dynamodb:${region}:*:table/${t}`,
    `arn:aws:dynamodb:${region}:*:table/${t}/index/*`,
  ])
  return {
    name: TABLES_BUNDLE,
    description: `Items, queries and transactions on the benchmark's tables (${tables.join(', ')}) and their indexes.`,
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchGetItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:ConditionCheckItem',
            'dynamodb:Query',
            'dynamodb:Scan',
            'dynamodb:DescribeTable',
          ],
          Resource: arns,
        },
      ],
    },
  }
}

/** The bundles for these names, or a UserError listing the known ones. */
export function resolvePolicies(
  names: string[],
  bundles: Map<string, PolicyBundle> = loadPolicyBundles(),
): PolicyBundle[] {
  if (names.includes(TABLES_BUNDLE) && !bundles.has(TABLES_BUNDLE))
    throw new UserError(`${TABLES_BUNDLE} grants a benchmark's declared tables, and none are declared here.`, {
      code: 'NO_TABLES',
      fix:
        'Declare the tables under "tables" in the benchmark\'s manifest and deploy the benchmark, or give a bundle ' +
        'of your own for these tables with --policies-file.',
    })
  const unknown = names.filter((n) => !bundles.has(n))
  if (unknown.length > 0) {
    throw new UserError(`Unknown policy bundle${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.`, {
      code: 'UNKNOWN_POLICY',
      fix:
        `Known bundles: ${[...bundles.keys()].join(', ')}` +
        `${bundles.has(TABLES_BUNDLE) ? '' : `, ${TABLES_BUNDLE} (a benchmark's declared tables)`} ` +
        `(AWSLambdaBasicExecutionRole is always attached). ` +
        `Define your own in a JSON file given with --policies-file or FAAS_POLICIES_FILE.`,
    })
  }
  return names.map((n) => bundles.get(n)!)
}
