/**
 * The one error type for user mistakes and unmet preconditions: what failed and the next step.
 * Commands print it as one paragraph with no stack trace; anything else is an internal error and
 * keeps its cause.
 */
export class UserError extends Error {
  override readonly name = 'UserError'
  readonly code: string
  readonly fix?: string

  constructor(message: string, options: {code?: string; fix?: string; cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.code = options.code ?? 'EUSER'
    this.fix = options.fix
  }

  /** Problem and fix as one paragraph. */
  get paragraph(): string {
    return this.fix ? `${this.message} ${this.fix}` : this.message
  }
}

export const isUserError = (error: unknown): error is UserError => error instanceof UserError

/** The message of anything thrown, for wrapping foreign errors into a UserError. */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error)
