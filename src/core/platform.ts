import {UserError} from './errors.js'

export const PLATFORMS = ['linux/arm64', 'linux/amd64'] as const
export type Platform = (typeof PLATFORMS)[number]

/** Debian/OCI architecture name: arm64 or amd64. */
export const archOf = (platform: Platform): 'arm64' | 'amd64' => (platform === 'linux/arm64' ? 'arm64' : 'amd64')

/** Lambda's name for an image architecture (Architectures on the function). */
export const lambdaArchitecture = (imageArchitecture: string): 'arm64' | 'x86_64' =>
  imageArchitecture === 'arm64' || imageArchitecture === 'aarch64' ? 'arm64' : 'x86_64'

export function parsePlatform(value: string): Platform {
  const normalized = value.includes('/') ? value : `linux/${value}`
  const found = PLATFORMS.find((p) => p === normalized)
  if (!found) {
    throw new UserError(`Unknown platform "${value}".`, {
      code: 'BAD_PLATFORM',
      fix: `Use one of: ${PLATFORMS.join(', ')}.`,
    })
  }
  return found
}

export const parsePlatforms = (value: string): Platform[] => [
  ...new Set(value.split(',').map((v) => parsePlatform(v.trim()))),
]
