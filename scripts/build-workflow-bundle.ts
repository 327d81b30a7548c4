/** Builds the workflow bundle once (Docker image build, production workers): `npm run build:bundle`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BUNDLE_PATH, bundleWorkflows } from '../src/worker/workflow-source.js';

const code = await bundleWorkflows();
mkdirSync(dirname(BUNDLE_PATH), { recursive: true });
writeFileSync(BUNDLE_PATH, code);
process.stdout.write(`wrote ${BUNDLE_PATH} (${Math.round(code.length / 1024)} KiB)\n`);
