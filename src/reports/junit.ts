/**
 * A validation report as JUnit XML, so that Jenkins or GitLab CI can show a nightly run: one test suite per
 * iteration, one test case per step (failed steps carry a <failure> with the failure type and its causes,
 * iterations that did not run carry one skipped case). Follows the JUnit XML shape CI servers read
 * (testsuites/testsuite/testcase with failure/skipped/system-out).
 */
import type { FailureSummary } from '../domain/errors.js';
import type { IterationReport, ValidationReport } from '../domain/report.js';

function esc(text: string): string {
  // XML 1.0 forbids most control characters even when escaped.
  const printable = [...text].filter((ch) => {
    const c = ch.charCodeAt(0);
    return c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  });
  return printable
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function causeChain(f: FailureSummary): string {
  const lines: string[] = [];
  for (let c: FailureSummary | undefined = f; c; c = c.cause) lines.push(`${c.type}: ${c.message}`);
  return lines.join('\ncaused by ');
}

function suite(report: ValidationReport, it: IterationReport): string {
  const name = `iteration ${it.iteration}: ${it.env}`;
  const classname = `shepherd.validatePipeline.${report.appName}.${it.env}`;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  if (it.steps.length === 0) {
    skipped++;
    cases.push(`    <testcase classname="${esc(classname)}" name="${esc(`${it.env} not run`)}" time="0.000">\n      <skipped message="${esc(`iteration ${it.iteration} did not run (${it.status})`)}"/>\n    </testcase>`);
  }
  for (const step of it.steps) {
    const out: string[] = [];
    const detail = [step.imageTag ? `image tag: ${step.imageTag}` : '', step.links?.mergeRequest ? `merge request: ${step.links.mergeRequest}` : '', step.links?.build ? `build: ${step.links.build}` : '', step.attempts ? `attempts: ${step.attempts}` : '']
      .filter(Boolean)
      .join('\n');
    if (step.status === 'failed' && step.failure) {
      failures++;
      out.push(`      <failure message="${esc(step.failure.message)}" type="${esc(step.failure.type)}">${esc(causeChain(step.failure))}</failure>`);
    } else if (step.status === 'cancelled' || step.status === 'running') {
      skipped++;
      out.push(`      <skipped message="${esc(`step ${step.status}`)}"/>`);
    }
    if (detail) out.push(`      <system-out>${esc(detail)}</system-out>`);
    const body = out.length > 0 ? `\n${out.join('\n')}\n    ` : '';
    cases.push(`    <testcase classname="${esc(classname)}" name="${esc(step.name)}" time="${seconds(step.durationMs)}">${body}</testcase>`);
  }
  const time = it.steps.reduce((s, x) => s + (x.durationMs ?? 0), 0);
  const tests = Math.max(1, it.steps.length);
  const timestamp = (it.steps[0]?.startedAt ?? report.startedAt).replace(/\.\d+Z$/, '').replace(/Z$/, '');
  return `  <testsuite name="${esc(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(time)}" timestamp="${esc(timestamp)}">\n${cases.join('\n')}\n  </testsuite>`;
}

export function toJUnitXml(report: ValidationReport): string {
  const suites = report.iterations.map((it) => suite(report, it));
  const tests = report.iterations.reduce((s, it) => s + Math.max(1, it.steps.length), 0);
  const failures = report.iterations.reduce((s, it) => s + it.steps.filter((x) => x.status === 'failed').length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(`validatePipeline ${report.appName}`)}" tests="${tests}" failures="${failures}" errors="0" time="${seconds(report.durationMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
