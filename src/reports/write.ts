/**
 * Writes a validation report in all three forms (JSON, Markdown, JUnit XML) into a folder the user chooses.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ValidationReport } from '../domain/report.js';
import { toJUnitXml } from './junit.js';
import { toMarkdown } from './markdown.js';

export interface WrittenReports {
  readonly json: string;
  readonly markdown: string;
  readonly junit: string;
}

/** Files are named after the run (`<name>.json`, `.md`, `.junit.xml`); returns their absolute paths. */
export function writeReports(report: ValidationReport, dir: string, name: string): WrittenReports {
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const paths = {
    json: join(folder, `${safe}.json`),
    markdown: join(folder, `${safe}.md`),
    junit: join(folder, `${safe}.junit.xml`),
  };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.markdown, toMarkdown(report));
  writeFileSync(paths.junit, toJUnitXml(report));
  return paths;
}
