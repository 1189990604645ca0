/** The project's root folder, whether running from src/ (tests, tsx) or from the build in dist/src/. */
import { createRequire } from 'node:module'
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const PROJECT_ROOT = basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..')
export const PUBLIC_DIR = resolve(PROJECT_ROOT, 'public')
/** @simplewebauthn/browser's prebuilt bundles (its package exports only its entry, whose folder is next to dist/). */
export const WEBAUTHN_BROWSER_BUNDLE_DIR = resolve(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '../dist/bundle')
