#!/usr/bin/env node
import {execute} from '@oclif/core'

// The AWS SDK warns on every run that its releases after January 2027 need Node 22; faas supports
// Node 20, so the notice is switched off with the SDK's own variable (inherited by the local service).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

await execute({dir: import.meta.url})
