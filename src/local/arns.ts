/** A function's ARN in the service's region and account. */
export function arnOf(ctx: {region: string; accountId: string}, name: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`
}

/** Accepts a name, a full or partial ARN. */
export function nameOf(ref: string): string {
  const decoded = decodeURIComponent(ref)
  const match = /(?:^|:)function:([^:]+)/.exec(decoded)
  return match ? match[1]! : decoded.split(':')[0]!
}
