/**
 * A validation report as JUnit XML, so that Jenkins or GitLab CI can show a nightly run: one test suite per
 * iteration, one test case per step (failed steps carry a <failure> with the failure type and its causes,
 * iterations that did not run carry one skipped case), and, when anything was undone, a `rollback` suite with
 * one test case per undo action. Valid against the JUnit schema the Jenkins xUnit plugin validates reports with
 * (`junit-10.xsd`, checked in test/unit/reports/junit.test.ts); GitLab reads the same shape.
 */
import type { FailureSummary } from '../domain/errors.js';
import type { IterationReport, RollbackRecord, StepRecord, ValidationReport } from '../domain/report.js';

/** Drops what XML 1.0 cannot carry even escaped: C0 controls but tab/LF/CR, lone surrogates, U+FFFE and U+FFFF. */
function xmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const allowed = c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    if (allowed) out += ch;
  }
  return out;
}

/** Element content. CR is written as a reference, or a parser would turn it into LF. */
function text(value: string): string {
  return xmlChars(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** An attribute value in double quotes. Tab, LF and CR as references, or attribute normalisation makes them spaces. */
function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

function seconds(ms: number | undefined): string {
  const s = Number.isFinite(ms) ? Math.max(0, ms ?? 0) / 1000 : 0;
  return s.toFixed(3);
}

function causeChain(f: FailureSummary): string {
  const lines: string[] = [];
  for (let c: FailureSummary | undefined = f; c; c = c.cause) lines.push(`${c.type}: ${c.message}`);
  return lines.join('\ncaused by ');
}

/** `2024-05-01T02:00:00.123Z` → `2024-05-01T02:00:00` (UTC), the timestamp form Ant and Surefire write. */
function timestamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, '').replace(/Z$/, '');
}

interface Case {
  readonly name: string;
  readonly time: string;
  readonly failure?: FailureSummary;
  readonly skipped?: string;
  readonly out?: string;
}

interface Suite {
  readonly name: string;
  readonly classname: string;
  readonly timestamp: string;
  readonly properties: ReadonlyArray<readonly [string, string | undefined]>;
  readonly cases: readonly Case[];
}

function testcase(classname: string, c: Case): string {
  const body: string[] = [];
  if (c.failure) body.push(`      <failure message="${attr(c.failure.message)}" type="${attr(c.failure.type)}">${text(causeChain(c.failure))}</failure>`);
  else if (c.skipped !== undefined) body.push(`      <skipped message="${attr(c.skipped)}"/>`);
  if (c.out) body.push(`      <system-out>${text(c.out)}</system-out>`);
  const open = `    <testcase classname="${attr(classname)}" name="${attr(c.name)}" time="${c.time}"`;
  return body.length > 0 ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`;
}

function counts(cases: readonly Case[]): { tests: number; failures: number; skipped: number } {
  return { tests: cases.length, failures: cases.filter((c) => c.failure).length, skipped: cases.filter((c) => !c.failure && c.skipped !== undefined).length };
}

function renderSuite(s: Suite, ms: number): string {
  const n = counts(s.cases);
  const props = s.properties.filter((p): p is readonly [string, string] => p[1] !== undefined && p[1] !== '');
  const lines = [
    `  <testsuite name="${attr(s.name)}" tests="${n.tests}" failures="${n.failures}" errors="0" skipped="${n.skipped}" time="${seconds(ms)}" timestamp="${attr(s.timestamp)}">`,
  ];
  if (props.length > 0) {
    lines.push('    <properties>');
    for (const [name, value] of props) lines.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    lines.push('    </properties>');
  }
  for (const c of s.cases) lines.push(testcase(s.classname, c));
  lines.push('  </testsuite>');
  return lines.join('\n');
}

function stepCase(step: StepRecord): Case {
  const out = [
    step.imageTag ? `image tag: ${step.imageTag}` : '',
    step.links?.mergeRequest ? `merge request: ${step.links.mergeRequest}` : '',
    step.links?.build ? `build: ${step.links.build}` : '',
    step.attempts ? `attempts: ${step.attempts}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const base = { name: step.name, time: seconds(step.durationMs), ...(out ? { out } : {}) };
  // A failed step always carries a <failure>, so the counts CI shows match the cases it lists.
  if (step.status === 'failed') return { ...base, failure: step.failure ?? { type: 'StepFailed', message: `step ${step.name} failed` } };
  if (step.status === 'cancelled' || step.status === 'running') return { ...base, skipped: `step ${step.status}` };
  return base;
}

function iterationSuite(report: ValidationReport, it: IterationReport): Suite {
  const cases: Case[] = it.steps.map(stepCase);
  if (it.steps.length === 0) cases.push({ name: `${it.env} not run`, time: seconds(0), skipped: `iteration ${it.iteration} did not run (${it.status})` });
  // The run failed here but no step records it (e.g. the failure came from outside a step): show it anyway.
  const f = report.failure;
  if (f && f.iteration === it.iteration && !cases.some((c) => c.failure)) {
    const { step, iteration: _iteration, ...failure } = f;
    cases.push({ name: step, time: seconds(0), failure });
  }
  return {
    name: `iteration ${it.iteration}: ${it.env}`,
    classname: `shepherd.validatePipeline.${report.appName}.${it.env}`,
    timestamp: timestamp(it.steps[0]?.startedAt ?? report.startedAt),
    properties: [
      ['environment', it.env],
      ['status', it.status],
      ['imageTag', it.imageTag],
      ['previousImageTag', it.previousImageTag],
      ['workflowId', it.workflowId],
    ],
    cases,
  };
}

function rollbackCase(r: RollbackRecord): Case {
  const move = r.fromImageTag || r.toImageTag ? `image: ${r.fromImageTag ?? '?'} -> ${r.toImageTag ?? '?'}` : '';
  const out = [move, r.detail ?? ''].filter(Boolean).join('\n');
  const base = { name: `${r.action}${r.env ? ` ${r.env}` : ''}: ${r.target}`, time: seconds(0), ...(out ? { out } : {}) };
  if (r.status === 'failed') return { ...base, failure: r.failure ?? { type: 'RollbackFailed', message: `${r.action} of ${r.target} failed` } };
  if (r.status === 'skipped') return { ...base, skipped: r.detail ?? 'not needed' };
  return base;
}

function rollbackSuite(report: ValidationReport): Suite {
  return {
    name: 'rollback',
    classname: `shepherd.validatePipeline.${report.appName}.rollback`,
    timestamp: timestamp(report.finishedAt),
    properties: [['status', report.status]],
    cases: report.rollback.map(rollbackCase),
  };
}

export function toJUnitXml(report: ValidationReport): string {
  const suites: Array<{ suite: Suite; ms: number }> = report.iterations.map((it) => ({
    suite: iterationSuite(report, it),
    ms: it.steps.reduce((s, x) => s + (x.durationMs ?? 0), 0),
  }));
  if (report.rollback.length > 0) suites.push({ suite: rollbackSuite(report), ms: 0 });
  const all = counts(suites.flatMap((s) => s.suite.cases));
  // <testsuites> takes no `skipped` attribute in junit-10.xsd; each <testsuite> has its own.
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(`validatePipeline ${report.appName}`)}" tests="${all.tests}" failures="${all.failures}" errors="0" time="${seconds(report.durationMs)}">`,
    ...suites.map((s) => renderSuite(s.suite, s.ms)),
    '</testsuites>',
    '',
  ].join('\n');
}
