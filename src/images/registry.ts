import {createAwsClients} from '../aws/clients.js'
import {ecrToken} from '../aws/ecr.js'
import {resolveAccountId} from '../aws/sts.js'
import {UserError, messageOf} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {ecrRegistry, isEcrRegistry} from '../core/names.js'
import type {Settings} from '../core/settings.js'
import type {DockerEngine, RegistryAuth} from '../docker/engine.js'
import {findLogin, saveLogin, type Login} from './logins.js'

/** The registry images go to: --registry / FAAS_REGISTRY, else the account's ECR (account from env or STS). */
export async function resolveRegistry(settings: Settings, override?: string): Promise<string> {
  const registry = override ?? settings.registry
  if (registry) return registry
  const clients = createAwsClients(settings)
  return ecrRegistry(await resolveAccountId(settings, clients), clients.region)
}

/** The registry for tagging at build time, without calling AWS: undefined when it would take a lookup. */
export function knownRegistry(settings: Settings, override?: string): string | undefined {
  if (override ?? settings.registry) return override ?? settings.registry
  if (settings.accountId && settings.region) return ecrRegistry(settings.accountId, settings.region)
  return undefined
}

/**
 * Logs in to a registry through the Engine API (POST /auth), then keeps the login for later pushes.
 * For ECR the password is a fresh GetAuthorizationToken; for others it comes from standard input.
 */
export async function login(
  engine: DockerEngine,
  settings: Settings,
  request: {registry: string; username?: string; password?: string},
  emit: Emit,
): Promise<Login> {
  let login: Login
  if (isEcrRegistry(request.registry) && request.password === undefined) {
    const token = await ecrToken(createAwsClients({...settings, region: request.registry.split('.')[3]}).ecr)
    login = {
      registry: request.registry,
      username: token.username,
      password: token.password,
      expiresAt: token.expiresAt.toISOString(),
    }
  } else {
    if (!request.username || request.password === undefined) {
      throw new UserError(`Logging in to ${request.registry} needs a username and a password.`, {
        code: 'NO_REGISTRY_CREDENTIALS',
        fix:
          `Run \`faas login --registry ${request.registry} --username NAME --password-stdin\` and type or pipe ` +
          `the password (it is never taken as an argument).`,
      })
    }
    login = {registry: request.registry, username: request.username, password: request.password}
  }
  emit({kind: 'start', subject: request.registry, message: `Logging in to ${request.registry}…`})
  try {
    await engine.checkAuth(toEngineAuth(login))
  } catch (error) {
    throw new UserError(
      `The registry ${request.registry} refused the login ` +
        `for ${login.username}: ${messageOf(error).replace(login.password, '***')}.`,
      {
        code: 'REGISTRY_AUTH',
        fix: 'Check the username and password (or, for ECR, the AWS credentials and region).',
      },
    )
  }
  await saveLogin(login)
  emit({kind: 'done', subject: request.registry, message: `Logged in to ${request.registry}`})
  return login
}

/** The login to push with: a kept one, else for ECR a fresh token (once per run), else none (open registry). */
export async function loginFor(
  engine: DockerEngine,
  settings: Settings,
  registry: string,
  emit: Emit,
): Promise<Login | undefined> {
  const kept = await findLogin(registry)
  if (kept) return kept
  if (isEcrRegistry(registry)) return login(engine, settings, {registry}, emit)
  return undefined
}

export const toEngineAuth = (login: Login): RegistryAuth => ({
  username: login.username,
  password: login.password,
  serveraddress: login.registry,
})
