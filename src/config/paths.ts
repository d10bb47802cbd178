import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, from both `src/config` (tests) and `dist/config` (built). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shipped example mapping, used by the sandbox and the demo. */
export const EXAMPLE_MAPPING_FILE = resolve(PACKAGE_ROOT, 'config', 'mapping.example.yaml');
