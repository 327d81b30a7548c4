/** Rewrites the README's configuration table from src/config/variables.ts: `npm run docs:config`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/config/paths.js';
import { withConfigurationTable } from '../src/config/reference.js';

const file = join(PROJECT_ROOT, 'README.md');
writeFileSync(file, withConfigurationTable(readFileSync(file, 'utf8')));
process.stdout.write(`updated the configuration table in ${file}\n`);
