import {execa} from 'execa'
import {createHash} from 'node:crypto'
import {copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'

import {UserError} from '../core/errors.js'
import type {Emit} from '../core/events.js'
import {archOf, type Platform} from '../core/platform.js'
import {projectPath} from '../core/paths.js'
import type {DockerEngine} from '../docker/engine.js'

/** The offline base's image name for a platform; function builds use it as BASE_IMAGE. */
export const baseImageRef = (platform: Platform): string => `faas/lambda-python:3.11-${archOf(platform)}`

export interface BaseImage {
  platform: Platform
  ref: string
  imageId: string
  architecture: string
  sizeBytes: number
  /** True when an existing image was kept. */
  cached: boolean
}

export const defaultBaseCacheDir = (): string =>
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'faas', 'base')

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

/**
 * Makes the offline Lambda Python base for each platform, keeping what exists: the debootstrap rootfs
 * is cached as a tar (minutes under emulation), the image by its tag.
 */
export async function buildBaseImages(
  engine: DockerEngine,
  options: {platforms: Platform[]; force?: boolean; cacheDir?: string},
  emit: Emit,
): Promise<BaseImage[]> {
  await engine.ping()
  const cacheDir = options.cacheDir ?? defaultBaseCacheDir()
  await mkdir(cacheDir, {recursive: true})
  return Promise.all(
    options.platforms.map((platform) => buildOne(engine, platform, cacheDir, options.force ?? false, emit)),
  )
}

/** Label holding the hash of requirements/base.txt the image was built with. */
const PINS_LABEL = 'dev.faas.base.requirements'

async function buildOne(
  engine: DockerEngine,
  platform: Platform,
  cacheDir: string,
  force: boolean,
  emit: Emit,
): Promise<BaseImage> {
  const ref = baseImageRef(platform)
  const requirements = projectPath('requirements', 'base.txt')
  const pins = createHash('sha256')
    .update(await readFile(requirements))
    .digest('hex')
  const existing = await engine.inspectImage(ref)
  // Kept unless the pins changed (an image from before the label existed was built with today's pins).
  const samePins = existing?.labels[PINS_LABEL] === undefined || existing.labels[PINS_LABEL] === pins
  if (existing && !force && samePins) {
    emit({kind: 'done', subject: ref, message: `${ref} already built (${existing.architecture})`})
    return {
      platform,
      ref,
      imageId: existing.id,
      architecture: existing.architecture,
      sizeBytes: existing.sizeBytes,
      cached: true,
    }
  }

  const rootfs = `bookworm-${archOf(platform)}.tar`
  if (force || !(await exists(join(cacheDir, rootfs)))) await debootstrap(platform, join(cacheDir, rootfs), emit)

  // The cache folder is the build context: the rootfs tar is too big to copy for every build.
  const recipe = projectPath('docker', 'lambda-python')
  await copyFile(join(recipe, 'Dockerfile'), join(cacheDir, 'Dockerfile'))
  await copyFile(join(recipe, 'lambda-entrypoint.sh'), join(cacheDir, 'lambda-entrypoint.sh'))
  await copyFile(requirements, join(cacheDir, 'requirements.txt'))
  await copyExtraCertificates(join(cacheDir, 'extra-ca'))
  emit({kind: 'start', subject: ref, message: `Building ${ref}…`})
  const built = await engine.build(
    {
      contextDir: cacheDir,
      files: ['Dockerfile', 'lambda-entrypoint.sh', 'requirements.txt', 'extra-ca', rootfs],
      dockerfile: 'Dockerfile',
      tags: [ref],
      platform,
      buildArgs: {ROOTFS: rootfs},
      labels: {'dev.faas.base': 'lambda-python', [PINS_LABEL]: pins},
    },
    ref,
    emit,
  )
  const info = await engine.inspectImage(built.imageId)
  emit({kind: 'done', subject: ref, message: `Built ${ref} (${info?.architecture})`})
  return {
    platform,
    ref,
    imageId: built.imageId,
    architecture: info?.architecture ?? '',
    sizeBytes: info?.sizeBytes ?? 0,
    cached: false,
  }
}

async function debootstrap(platform: Platform, tarPath: string, emit: Emit): Promise<void> {
  const which = await execa('sh', ['-c', 'command -v debootstrap'], {reject: false})
  if (which.exitCode !== 0 || process.getuid?.() !== 0) {
    throw new UserError('Making the offline base image needs debootstrap, run as root.', {
      code: 'NO_DEBOOTSTRAP',
      fix:
        'Run `bash scripts/stack.sh up` (it installs debootstrap and builds the bases), or build with ' +
        '--base-image set to an image you have.',
    })
  }
  const subject = `rootfs ${archOf(platform)}`
  const dir = await mkdtemp(join(tmpdir(), `faas-rootfs-${archOf(platform)}-`))
  try {
    emit({kind: 'start', subject, message: `Bootstrapping Debian bookworm for ${platform} (minutes under emulation)…`})
    const run = execa(
      'debootstrap',
      [
        '--variant=minbase',
        `--arch=${archOf(platform)}`,
        '--include=python3,python3-pip,ca-certificates',
        'bookworm',
        dir,
        'http://deb.debian.org/debian',
      ],
      {all: true, reject: false},
    )
    for await (const line of run.all!) emit({kind: 'progress', subject, message: String(line)})
    const result = await run
    if (result.exitCode !== 0) {
      throw new UserError(`debootstrap for ${platform} failed (exit ${result.exitCode}).`, {
        code: 'DEBOOTSTRAP_FAILED',
        fix:
          'Check that Debian mirrors are reachable and, for a foreign architecture, that qemu-user-static is ' +
          'registered (`bash scripts/stack.sh services`).',
      })
    }
    const partial = `${tarPath}.partial`
    await execa('tar', [
      '-C',
      dir,
      '--exclude=./proc/*',
      '--exclude=./sys/*',
      '--exclude=./dev/*',
      '--exclude=./var/cache/apt/archives/*.deb',
      '-cf',
      partial,
      '.',
    ])
    await rename(partial, tarPath)
    emit({kind: 'done', subject, message: `Bootstrapped ${platform}`})
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/**
 * The host's locally added CAs (Debian's /usr/local/share/ca-certificates), so pip in the image trusts the same
 * proxies.
 */
async function copyExtraCertificates(target: string): Promise<void> {
  const source = '/usr/local/share/ca-certificates'
  await rm(target, {recursive: true, force: true})
  await mkdir(target, {recursive: true})
  await writeFile(join(target, 'README'), 'CA certificates copied from the build host.\n')
  const names = await readdir(source).catch(() => [] as string[])
  for (const name of names.filter((n) => n.endsWith('.crt'))) await copyFile(join(source, name), join(target, name))
}
