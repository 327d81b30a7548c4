/** writeReports puts the JSON, Markdown and JUnit forms of one run into the folder the user chose. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { toJUnitXml } from '../../../src/reports/junit.js';
import { toMarkdown } from '../../../src/reports/markdown.js';
import { writeReports } from '../../../src/reports/write.js';
import { rolledBackReport } from './sample-reports.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('writes all three forms under a safe file name, creating the folder', () => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-reports-'));
  const report = rolledBackReport();
  const paths = writeReports(report, join(dir, 'nested', 'reports'), 'validate/example-app 2025:03:04');
  expect(paths.json).toBe(join(dir, 'nested', 'reports', 'validate_example-app_2025_03_04.json'));
  expect(paths.markdown).toBe(join(dirname(paths.json), 'validate_example-app_2025_03_04.md'));
  expect(paths.junit).toBe(join(dirname(paths.json), 'validate_example-app_2025_03_04.junit.xml'));
  expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
  expect(readFileSync(paths.markdown, 'utf8')).toBe(toMarkdown(report));
  expect(readFileSync(paths.junit, 'utf8')).toBe(toJUnitXml(report));
});
