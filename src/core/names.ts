import {UserError} from './errors.js'

// ECR: lowercase path components of [a-z0-9] joined by . _ - and /, 2–256 characters.
const REPOSITORY = /^(?=.{2,256}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/
// Docker tag grammar.
const TAG = /^[\w][\w.-]{0,127}$/
// Lambda: letters, digits, hyphens, underscores; 1–64 characters.
const FUNCTION = /^[A-Za-z0-9_-]{1,64}$/

export function checkRepositoryName(name: string): string {
  if (!REPOSITORY.test(name)) {
    throw new UserError(`"${name}" is not a valid repository name.`, {
      code: 'BAD_REPOSITORY_NAME',
      fix: 'Use 2–256 lowercase letters and digits, separated by single ".", "_", "-" or "/" (e.g. map-reduce-driver).',
    })
  }
  return name
}

export function checkTag(tag: string): string {
  if (!TAG.test(tag)) {
    throw new UserError(`"${tag}" is not a valid image tag.`, {
      code: 'BAD_TAG',
      fix: 'Use up to 128 letters, digits, "_", "." or "-", not starting with "." or "-" (e.g. latest, v1.2).',
    })
  }
  return tag
}

export function checkFunctionName(name: string): string {
  if (!FUNCTION.test(name)) {
    throw new UserError(`"${name}" is not a valid Lambda function name.`, {
      code: 'BAD_FUNCTION_NAME',
      fix: 'Use 1–64 letters, digits, "-" or "_" (e.g. map-reduce-driver).',
    })
  }
  return name
}

/** `registry/repository:tag`, or `repository:tag` for an image only the local engine knows. */
export const imageRef = (registry: string | undefined, repository: string, tag: string): string =>
  `${registry ? `${registry}/` : ''}${repository}:${tag}`

export const ecrRegistry = (accountId: string, region: string): string => `${accountId}.dkr.ecr.${region}.amazonaws.com`

export const isEcrRegistry = (registry: string): boolean =>
  /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(registry)
