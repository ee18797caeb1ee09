#!/usr/bin/env node
import {execute} from '@oclif/core'

// The AWS SDK warns on every run that future releases will need Node 22; faas works on Node 20, so
// drop that one notice rather than print it above every command's output.
const emitWarning = process.emitWarning.bind(process)
process.emitWarning = (warning, ...rest) => {
  if (String(warning).startsWith('NodeVersionSupportWarning')) return
  emitWarning(warning, ...rest)
}

await execute({dir: import.meta.url})
