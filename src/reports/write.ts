/**
 * Writes a validation report in all three forms (JSON, Markdown, JUnit XML), and a promotion report as JSON and
 * Markdown, and a fan-out's combined report in all three forms, into a folder the user chooses.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FanOutReport, PromotionReport, ValidationReport } from '../domain/report.js';
import { fanOutToMarkdown } from './fan-out.js';
import { fanOutToJUnitXml, toJUnitXml } from './junit.js';
import { toMarkdown } from './markdown.js';
import { promotionToMarkdown } from './promotion-markdown.js';

export interface WrittenReports {
  readonly json: string;
  readonly markdown: string;
  readonly junit: string;
}

/** Files are named after the run (`<name>.json`, `.md`, `.junit.xml`); returns their absolute paths. */
export function writeReports(report: ValidationReport, dir: string, name: string): WrittenReports {
  const paths = { ...reportPaths(dir, name), junit: join(resolve(dir), `${safeName(name)}.junit.xml`) };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.markdown, toMarkdown(report));
  writeFileSync(paths.junit, toJUnitXml(report));
  return paths;
}

/** A fan-out's combined report as `<name>.json`, `.md` and `.junit.xml`; returns their absolute paths. */
export function writeFanOutReports(report: FanOutReport, dir: string, name: string): WrittenReports {
  const paths = { ...reportPaths(dir, name), junit: join(resolve(dir), `${safeName(name)}.junit.xml`) };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.markdown, fanOutToMarkdown(report));
  writeFileSync(paths.junit, fanOutToJUnitXml(report));
  return paths;
}

/** A promotion report as `<name>.json` and `<name>.md`; returns their absolute paths. */
export function writePromotionReports(
  report: PromotionReport,
  dir: string,
  name: string,
): Omit<WrittenReports, 'junit'> {
  const paths = reportPaths(dir, name);
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.markdown, promotionToMarkdown(report));
  return paths;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The JSON and Markdown paths of a report named `name` in `dir`, which is created. */
function reportPaths(dir: string, name: string): { json: string; markdown: string } {
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  return { json: join(folder, `${safeName(name)}.json`), markdown: join(folder, `${safeName(name)}.md`) };
}
