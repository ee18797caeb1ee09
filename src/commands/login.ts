import {Flags} from '@oclif/core'
import {text} from 'node:stream/consumers'

import {FaasCommand} from '../cli/faas-command.js'
import {loadSettings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {login, resolveRegistry} from '../images/registry.js'

export default class Login extends FaasCommand {
  static override summary = "Log in to the account's ECR registry (or --registry) through the Docker Engine API."
  static override description =
    'For ECR, faas asks GetAuthorizationToken and checks it with the engine; for other registries the password is ' +
    'read from standard input (--password-stdin), never from an argument. The login is kept in ' +
    '~/.faas/registries.json (mode 0600, written atomically under a lock) for later pushes.'

  static override examples = [
    '<%= config.bin %> login',
    'printf %s "$PASSWORD" | <%= config.bin %> login --registry 127.0.0.1:5001 --username faas --password-stdin',
  ]

  static override flags = {
    registry: Flags.string({description: "Registry host[:port] (default: the account's ECR, or FAAS_REGISTRY)."}),
    username: Flags.string({char: 'u', description: 'Username for a non-ECR registry.'}),
    'password-stdin': Flags.boolean({description: 'Read the password from standard input.', default: false}),
  }

  async run() {
    const {flags} = await this.parse(Login)
    const settings = loadSettings()
    const registry = await resolveRegistry(settings, flags.registry)
    const password = flags['password-stdin'] ? (await text(process.stdin)).replace(/\r?\n$/, '') : undefined
    const kept = await login(new DockerEngine(), settings, {registry, username: flags.username, password}, this.emit)
    this.log(`Logged in to ${kept.registry} as ${kept.username}${kept.expiresAt ? ` until ${kept.expiresAt}` : ''}`)
    return {registry: kept.registry, username: kept.username, expiresAt: kept.expiresAt}
  }
}
