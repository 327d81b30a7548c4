/**
 * The published JSON Schema of the pipeline file: the committed schema/pipeline.schema.json is what the code
 * generates, every example in examples/pipelines validates against it (with ajv, as an editor's YAML language server
 * would) and loads through Shepherd's own parser, and a wrong file does not validate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config/paths.js';
import { parsePipeline, PIPELINE_SCHEMA_FILE, pipelineJsonSchemaText } from '../../../src/config/pipeline-file.js';
import { SEED_DEFAULTS } from '../../support/pipeline-defaults.js';

const EXAMPLES = join(PROJECT_ROOT, 'examples/pipelines');
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
const committed = readFileSync(join(PROJECT_ROOT, PIPELINE_SCHEMA_FILE), 'utf8');
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(committed) as object);

const DEFAULTS = SEED_DEFAULTS;

describe('schema/pipeline.schema.json', () => {
  it('is the schema the code generates (run `npm run docs:schema` after changing the pipeline file schema)', () => {
    expect(committed).toBe(pipelineJsonSchemaText());
  });

  it('has the four examples the issue asks for', () => {
    expect(examples).toEqual(
      expect.arrayContaining(['seed.yaml', 'four-env-kustomize.yaml', 'two-apps-helm.yaml', 'two-clusters.yaml']),
    );
  });

  it.each(examples)('validates examples/pipelines/%s, which points editors at it and loads in Shepherd', (file) => {
    const text = readFileSync(join(EXAMPLES, file), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schema/pipeline.schema.json');
    const ok = validate(parse(text));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(parsePipeline(text, DEFAULTS, file).environments.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a wrong file, naming where it is wrong', () => {
    const wrong = {
      environments: [{ name: 'dev', colour: 'blue' }, { name: 'Prod' }],
      apps: [{ name: 'example-app', image: [{ format: 'helm', file: 'values.yaml' }] }],
      promotion: { mode: 'carrier-pigeon' },
    };
    expect(validate(wrong)).toBe(false);
    const where = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
    expect(where).toEqual(
      expect.arrayContaining([
        '/environments/0 additionalProperties',
        '/environments/1/name pattern',
        '/promotion/mode enum',
      ]),
    );
    expect(validate({ environments: [{ name: 'dev' }, { name: 'prod' }] })).toBe(false);
    expect(validate.errors?.map((e) => e.params)).toContainEqual({ missingProperty: 'apps' });
  });
});
