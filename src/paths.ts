/** The project's root folder, whether running from src/ (tests, tsx) or from the build in dist/src/. */
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const PROJECT_ROOT = basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..')
export const PUBLIC_DIR = resolve(PROJECT_ROOT, 'public')
