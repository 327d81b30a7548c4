/** Writes the pipeline file's JSON Schema to schema/pipeline.schema.json: `npm run docs:schema`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../src/config/paths.js';
import { PIPELINE_SCHEMA_FILE, pipelineJsonSchemaText } from '../src/config/pipeline-file.js';

const file = join(PROJECT_ROOT, PIPELINE_SCHEMA_FILE);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, pipelineJsonSchemaText());
process.stdout.write(`wrote the pipeline file's JSON Schema to ${file}\n`);
