import {InvokeWithResponseStreamCommand, type LambdaClient} from '@aws-sdk/client-lambda'

/** What `invoke` reads of an answer, whichever API gave it. */
export interface InvokeAnswer {
  StatusCode?: number
  Payload?: Uint8Array
  FunctionError?: string
  LogResult?: string
  $metadata: {requestId?: string}
}

/**
 * One call through InvokeWithResponseStream, each PayloadChunk handed to `onChunk` as it arrives, read into Invoke's
 * shape: the chunks are the payload; InvokeComplete's ErrorCode/ErrorDetails make it a function error whose payload
 * is Lambda's error JSON; its LogResult is the log tail.
 */
export async function streamedInvoke(
  lambda: LambdaClient,
  input: {FunctionName: string; Payload: Uint8Array; InvocationType: string; LogType: 'Tail' | 'None'},
  onChunk: (bytes: Buffer) => void,
): Promise<InvokeAnswer> {
  const out = await lambda.send(
    new InvokeWithResponseStreamCommand({
      ...input,
      InvocationType: input.InvocationType as 'RequestResponse' | 'DryRun',
    }),
  )
  const chunks: Buffer[] = []
  let complete: {ErrorCode?: string; ErrorDetails?: string; LogResult?: string} | undefined
  for await (const event of out.EventStream ?? []) {
    if (event.PayloadChunk?.Payload) {
      const bytes = Buffer.from(event.PayloadChunk.Payload)
      chunks.push(bytes)
      onChunk(bytes)
    }
    if (event.InvokeComplete) complete = event.InvokeComplete
  }
  const failed = complete?.ErrorCode !== undefined
  return {
    StatusCode: out.StatusCode,
    $metadata: out.$metadata,
    Payload: failed
      ? Buffer.from(JSON.stringify({errorType: complete!.ErrorCode, errorMessage: complete!.ErrorDetails ?? ''}))
      : Buffer.concat(chunks),
    FunctionError: failed ? 'Unhandled' : undefined,
    LogResult: complete?.LogResult,
  }
}
