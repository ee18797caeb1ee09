import type {Login} from './logins.js'

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

/** Loopback registries speak plain HTTP (as the engine assumes); everything else HTTPS. */
export const registryBase = (registry: string): string =>
  /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(registry) ? `http://${registry}` : `https://${registry}`

/**
 * The digest the registry holds for repository:tag (Registry API v2 HEAD), or undefined when it has
 * none. Handles the Basic and Bearer challenges of distribution and ECR.
 */
export async function remoteDigest(
  registry: string,
  repository: string,
  tag: string,
  login?: Login,
): Promise<string | undefined> {
  const url = `${registryBase(registry)}/v2/${repository}/manifests/${tag}`
  const headers: Record<string, string> = {Accept: MANIFEST_TYPES}
  let response = await fetch(url, {method: 'HEAD', headers})
  if (response.status === 401 && login) {
    headers.Authorization = await authorization(response.headers.get('www-authenticate') ?? '', login, repository)
    response = await fetch(url, {method: 'HEAD', headers})
  }
  if (response.status === 404) return undefined
  if (!response.ok) return undefined // unknown: let the push decide, it reports errors properly
  return response.headers.get('docker-content-digest') ?? undefined
}

async function authorization(challenge: string, login: Login, repository: string): Promise<string> {
  const basic = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`
  if (!/^Bearer /i.test(challenge)) return basic
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
  const tokenUrl = new URL(params.realm!)
  if (params.service) tokenUrl.searchParams.set('service', params.service)
  tokenUrl.searchParams.set('scope', params.scope ?? `repository:${repository}:pull`)
  const token = (await (await fetch(tokenUrl, {headers: {Authorization: basic}})).json()) as {
    token?: string
    access_token?: string
  }
  return `Bearer ${token.token ?? token.access_token}`
}
