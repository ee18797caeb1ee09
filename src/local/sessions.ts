import {randomBytes, randomUUID, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'

import {UserError} from '../core/errors.js'
import {sendJson} from './http.js'
import type {KnownKey} from './sigv4.js'
import type {EnvironmentGrants, LocalFunction, ServiceOptions} from './types.js'

/** Session credentials as the container-credentials endpoint serves them. */
export interface SessionCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration: Date
}

/** Credentials are renewed when less than this is left (botocore refreshes 15 min before expiry). */
const RENEW_BEFORE_MS = 20 * 60_000

interface Grant {
  secret: Buffer
  fn: LocalFunction
  peer: () => Promise<string | undefined>
  issued?: SessionCredentials
}

/**
 * Who may sign calls to the service and what functions get to sign with: the service's own key
 * pair (everything), session credentials handed to environments (Invoke only, expiring, forgotten
 * with the environment), and per-environment grants for the container-credentials endpoint.
 */
export class Sessions {
  /** Session credentials handed to environments, by access key id. */
  #sessions = new Map<string, KnownKey & {expiresAt: number}>()
  /** Container-credentials grants by id: the token's secret half, who may use it, what it was given. */
  #grants = new Map<string, Grant>()
  /** With --pass-credentials: the user's keys exchanged for an STS session, shared by environments. */
  #passed?: Promise<SessionCredentials>

  constructor(private readonly options: ServiceOptions) {}

  /** With --pass-credentials, exchanges the user's keys before the service answers (a failure stops the start). */
  async start(): Promise<void> {
    if (!this.options.credentials) return
    this.#passed = this.#exchange(this.options.credentials)
    await this.#passed
  }

  /** What environments are given: where the service is and a credentials grant each. */
  grants(serviceUrl: string): EnvironmentGrants {
    return {
      serviceUrl,
      open: (fn, peer) => {
        const id = randomUUID()
        const secret = randomBytes(32)
        this.#grants.set(id, {secret, fn, peer})
        return {
          token: `${id}.${secret.toString('hex')}`,
          close: () => {
            const grant = this.#grants.get(id)
            if (grant?.issued && !this.#passed) this.revokeSession(grant.issued.accessKeyId)
            this.#grants.delete(id)
          },
        }
      },
    }
  }

  /** The key pair behind an access key id: the service's own, or session credentials it handed to an environment. */
  keyOf(accessKeyId: string): KnownKey | undefined {
    const {secrets} = this.options
    if (accessKeyId === secrets.accessKeyId)
      return {
        secretAccessKey: secrets.secretAccessKey,
        scope: 'all',
        principal: `arn:aws:iam::${this.options.accountId}:user/faas-local`,
      }
    const session = this.#sessions.get(accessKeyId)
    if (!session) return undefined
    if (session.expiresAt <= Date.now()) {
      this.#sessions.delete(accessKeyId)
      return undefined
    }
    return session
  }

  /**
   * Session credentials for a function's environment: they sign Invoke calls only, expire, and
   * are forgotten when the environment ends (revokeSession). How functions invoke functions.
   */
  issueSession(principal: string, lifetimeMs = 60 * 60_000): Required<SessionCredentials> {
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`
    const secretAccessKey = randomBytes(30).toString('base64')
    const sessionToken = randomBytes(48).toString('base64')
    const expiresAt = Date.now() + lifetimeMs
    this.#sessions.set(accessKeyId, {secretAccessKey, sessionToken, scope: 'invoke', principal, expiresAt})
    return {accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt)}
  }

  /** Accepts credentials obtained elsewhere (STS, with --pass-credentials) as Invoke credentials of an environment. */
  acceptSession(credentials: Omit<SessionCredentials, 'expiration'> & {expiration?: Date}, principal: string): void {
    this.#sessions.set(credentials.accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      scope: 'invoke',
      principal,
      expiresAt: credentials.expiration?.getTime() ?? Date.now() + 60 * 60_000,
    })
  }

  revokeSession(accessKeyId: string): void {
    this.#sessions.delete(accessKeyId)
  }

  /**
   * --pass-credentials: the user's long-lived keys never reach a container; STS turns them into
   * a session (GetSessionToken) that environments get from the credentials endpoint. Keys that
   * are already a session are served as they are.
   */
  async #exchange(user: NonNullable<ServiceOptions['credentials']>): Promise<SessionCredentials> {
    const session = user.sessionToken
      ? {...user, expiration: new Date(Date.now() + 60 * 60_000)}
      : await this.#getSessionToken(user)
    this.acceptSession(session, `arn:aws:sts::${this.options.accountId}:federated-user/faas-local`)
    return session
  }

  async #getSessionToken(user: NonNullable<ServiceOptions['credentials']>): Promise<SessionCredentials> {
    // Loaded only here (--pass-credentials): some 20 ms every service start would otherwise pay.
    const {GetSessionTokenCommand, STSClient} = await import('@aws-sdk/client-sts')
    const sts = new STSClient({
      region: this.options.region,
      credentials: {accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey},
      maxAttempts: 3,
    })
    try {
      const out = await sts.send(new GetSessionTokenCommand({DurationSeconds: 3600}))
      const c = out.Credentials!
      return {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken,
        expiration: c.Expiration ?? new Date(Date.now() + 60 * 60_000),
      }
    } catch (error) {
      throw new UserError(
        `--pass-credentials: STS did not exchange your AWS keys for session credentials (${(error as Error).name}).`,
        {
          code: 'PASS_CREDENTIALS_FAILED',
          fix:
            'Functions get only short-lived credentials: make STS reachable (AWS_ENDPOINT_URL_STS for an ' +
            'emulator), use session credentials (AWS_SESSION_TOKEN), or leave out --pass-credentials.',
        },
      )
    } finally {
      sts.destroy()
    }
  }

  /**
   * GET /faas/credentials with the environment's token, from the environment's own address: what its SDK signs with.
   */
  async serveCredentials(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume()
    const [id = '', secret = ''] = String(req.headers.authorization ?? '').split('.')
    const grant = this.#grants.get(id)
    const given = Buffer.from(secret, 'hex')
    const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    if (
      !grant ||
      given.length !== grant.secret.length ||
      !timingSafeEqual(given, grant.secret) ||
      peer !== (await grant.peer())
    ) {
      return sendJson(res, 403, {message: 'The authorization token is not valid for this environment.'})
    }
    const creds = await this.#credentialsFor(grant)
    return sendJson(res, 200, {
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      Token: creds.sessionToken,
      Expiration: creds.expiration.toISOString(),
      RoleArn: `arn:aws:iam::${this.options.accountId}:role/${grant.fn.name}-role`,
    })
  }

  /** The passed-through session (renewed near expiry), or the grant's own Invoke-only session. */
  async #credentialsFor(grant: Grant): Promise<SessionCredentials> {
    if (this.#passed) {
      const passed = await this.#passed
      if (passed.expiration.getTime() - Date.now() < RENEW_BEFORE_MS && this.options.credentials)
        return (this.#passed = this.#exchange(this.options.credentials))
      return passed
    }
    if (!grant.issued || grant.issued.expiration.getTime() - Date.now() < RENEW_BEFORE_MS) {
      grant.issued = this.issueSession(
        `arn:aws:sts::${this.options.accountId}:assumed-role/${grant.fn.name}-role/${grant.fn.name}`,
      )
    }
    return grant.issued
  }
}
