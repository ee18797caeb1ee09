import type {LambdaErrorBody} from './types.js'

/**
 * Every error the local service answers with, by name, as Lambda's API reports it (status, the
 * x-amzn-ErrorType, the message an SDK shows): one place to compare with Lambda's, as SAM keeps
 * its lambda_error_responses. Handlers throw these; the HTTP layer turns them into responses.
 */

export class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

export const notFound = (arn: string) =>
  new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${arn}`)

export const invalid = (message: string) => new LambdaApiError(400, 'InvalidParameterValueException', message)

export const conflict = (name: string) =>
  new LambdaApiError(409, 'ResourceConflictException', `Function already exist: ${name}`)

/** A URL config, policy or statement that does not exist (Lambda's wording for them). */
export const resourceMissing = (message = 'The resource you requested does not exist.') =>
  new LambdaApiError(404, 'ResourceNotFoundException', message)

export const resourceConflict = (message: string) => new LambdaApiError(409, 'ResourceConflictException', message)

/** Lambda's wording for a field that breaks its model's constraint. */
export const validation = (value: unknown, field: string, constraint: string) =>
  invalid(
    `1 validation error detected: Value '${typeof value === 'string' ? value : JSON.stringify(value)}' at ` +
      `'${field}' failed to satisfy constraint: ${constraint}`,
  )

export const accessDenied = (message: string) => new LambdaApiError(403, 'AccessDeniedException', message)

export const invalidContent = (message: string) => new LambdaApiError(400, 'InvalidRequestContentException', message)

export const tooLarge = (message: string) => new LambdaApiError(413, 'RequestTooLargeException', message)

export const throttled = (reason: string) =>
  new LambdaApiError(429, 'TooManyRequestsException', 'Rate Exceeded.', {Reason: reason})

export const serviceError = (message: string) => new LambdaApiError(500, 'ServiceException', message)

export const unknownOperation = (method: string, path: string) =>
  new LambdaApiError(404, 'UnknownOperationException', `The local Lambda service does not implement ${method} ${path}.`)

/** SigV4 refusals, with Lambda's messages. */
export const denied = {
  missing: () => new LambdaApiError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'),
  unknownKey: () =>
    new LambdaApiError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'),
  signature: () =>
    new LambdaApiError(
      403,
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access ' +
        'Key and signing method. Consult the service documentation for details.',
    ),
  scope: (message: string) => new LambdaApiError(403, 'InvalidSignatureException', message),
}

/*
 * The function errors a caller gets in the payload (X-Amz-Function-Error: Unhandled), as Lambda
 * words them when the sandbox, not the handler, failed.
 */

/** Why an environment ended, as Lambda names it. */
export interface ExitReason {
  errorType: string
  message: string
}

export const errorJson = (body: LambdaErrorBody): Buffer => Buffer.from(JSON.stringify(body))

/** The runtime's error body, made Lambda-shaped (errorMessage + errorType) when it is not. */
export function normaliseError(body: Buffer, type: string | undefined): Buffer {
  try {
    const parsed = JSON.parse(body.toString('utf8'))
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) return body
  } catch {}
  return errorJson({errorMessage: body.toString('utf8'), errorType: type ?? 'Runtime.Unknown'})
}

/** Errors meaning the Docker engine itself cannot be reached (stopped, restarting, socket gone). */
export function engineUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code
  return (
    ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES'].includes(code ?? '') ||
    /socket hang up/.test(String((error as Error)?.message))
  )
}

export const exitReasons = {
  exited: (exit: {exitCode: number; oomKilled: boolean}): ExitReason =>
    exit.oomKilled
      ? {errorType: 'Runtime.OutOfMemory', message: 'Runtime exited with error: signal: killed'}
      : {errorType: 'Runtime.ExitError', message: `Runtime exited with error: exit status ${exit.exitCode}`},
  // The engine went away (stopped, restarted, its socket gone): the container is lost with it.
  engineLost: (error: unknown): ExitReason => ({
    errorType: 'Runtime.Unknown',
    message: `The Docker engine went away (${(error as Error)?.message ?? error}); the environment is lost`,
  }),
  timedOut: (timeoutS: number): ExitReason => ({
    errorType: 'Sandbox.Timedout',
    message: `Task timed out after ${timeoutS.toFixed(2)} seconds`,
  }),
  ended: (): ExitReason => ({errorType: 'Runtime.ExitError', message: 'the environment ended'}),
}

export const functionErrors = {
  /** An invocation (or init) cut short by the environment's end. */
  ended: (requestId: string, reason: ExitReason) =>
    errorJson({errorMessage: `RequestId: ${requestId} Error: ${reason.message}`, errorType: reason.errorType}),
  responseTooLarge: (limit: number) =>
    errorJson({
      errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
      errorType: 'Function.ResponseSizeTooLarge',
    }),
  /** The container could not be created or started. */
  startFailed: (error: unknown) =>
    errorJson({
      errorMessage: engineUnreachable(error)
        ? `The Docker engine is not reachable (${(error as Error).message}): the local service cannot start ` +
          `environments until it is back.`
        : `The environment could not start: ${(error as Error).message}`,
      errorType: 'Runtime.Unknown',
    }),
  runtimeFailed: () => errorJson({errorMessage: 'The runtime failed to start.', errorType: 'Runtime.Unknown'}),
}
