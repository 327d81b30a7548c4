/**
 * A validation report as JUnit XML, so that Jenkins or GitLab CI can show a nightly run: one test suite per
 * iteration, one test case per step (failed steps carry a <failure> with the failure type and its causes,
 * iterations that did not run carry one skipped case), and, when anything was undone, a `rollback` suite with
 * one test case per undo action. Valid against the JUnit schema the Jenkins xUnit plugin validates reports with
 * (`junit-10.xsd`, checked in test/unit/reports/junit.test.ts); GitLab reads the same shape. A fan-out's report
 * (fanOutToJUnitXml) is one document with every app's suites.
 */
import type { FailureSummary } from '../domain/errors.js';
import type {
  FanOutReport,
  IterationReport,
  PromotionReport,
  RollbackRecord,
  StepRecord,
  ValidationReport,
} from '../domain/report.js';

/** Drops what XML 1.0 cannot carry even escaped: C0 controls but tab/LF/CR, lone surrogates, U+FFFE and U+FFFF. */
function xmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const allowed =
      code === 0x09 ||
      code === 0x0a ||
      code === 0x0d ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
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
  const total = Number.isFinite(ms) ? Math.max(0, ms ?? 0) / 1000 : 0;
  return total.toFixed(3);
}

function causeChain(failure: FailureSummary): string {
  const lines: string[] = [];
  for (let cause: FailureSummary | undefined = failure; cause; cause = cause.cause)
    lines.push(`${cause.type}: ${cause.message}`);
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

function testcase(classname: string, testCase: Case): string {
  const { failure, skipped, out } = testCase;
  const body: string[] = [];
  if (failure)
    body.push(
      `      <failure message="${attr(failure.message)}" type="${attr(failure.type)}">${text(causeChain(failure))}</failure>`,
    );
  else if (skipped !== undefined) body.push(`      <skipped message="${attr(skipped)}"/>`);
  if (out) body.push(`      <system-out>${text(out)}</system-out>`);
  const open = `    <testcase classname="${attr(classname)}" name="${attr(testCase.name)}" time="${testCase.time}"`;
  return body.length > 0 ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`;
}

function counts(cases: readonly Case[]): { tests: number; failures: number; skipped: number } {
  const failures = cases.filter((testCase) => testCase.failure).length;
  const skipped = cases.filter((testCase) => !testCase.failure && testCase.skipped !== undefined).length;
  return { tests: cases.length, failures, skipped };
}

function renderSuite(suite: Suite, ms: number): string {
  const totals = counts(suite.cases);
  const props = suite.properties.filter(
    (property): property is readonly [string, string] => property[1] !== undefined && property[1] !== '',
  );
  const lines = [
    `  <testsuite name="${attr(suite.name)}" tests="${totals.tests}" failures="${totals.failures}" errors="0" skipped="${totals.skipped}" time="${seconds(ms)}" timestamp="${attr(suite.timestamp)}">`,
  ];
  if (props.length > 0) {
    lines.push('    <properties>');
    for (const [name, value] of props) lines.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    lines.push('    </properties>');
  }
  for (const testCase of suite.cases) lines.push(testcase(suite.classname, testCase));
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
  if (step.status === 'failed')
    return { ...base, failure: step.failure ?? { type: 'StepFailed', message: `step ${step.name} failed` } };
  if (step.status === 'cancelled' || step.status === 'running') return { ...base, skipped: `step ${step.status}` };
  return base;
}

function iterationSuite(report: ValidationReport, iteration: IterationReport, prefix: string): Suite {
  const cases: Case[] = iteration.steps.map(stepCase);
  if (iteration.steps.length === 0)
    cases.push({
      name: `${iteration.env} not run`,
      time: seconds(0),
      skipped: `iteration ${iteration.iteration} did not run (${iteration.status})`,
    });
  // The run failed here but no step records it (e.g. the failure came from outside a step): show it anyway.
  if (
    report.failure &&
    report.failure.iteration === iteration.iteration &&
    !cases.some((testCase) => testCase.failure)
  ) {
    const { step, iteration: _iteration, ...failure } = report.failure;
    cases.push({ name: step, time: seconds(0), failure });
  }
  return {
    name: `${prefix}iteration ${iteration.iteration}: ${iteration.env}`,
    classname: `shepherd.validatePipeline.${report.appName}.${iteration.env}`,
    timestamp: timestamp(iteration.steps[0]?.startedAt ?? report.startedAt),
    properties: [
      ['environment', iteration.env],
      ['status', iteration.status],
      ['imageTag', iteration.imageTag],
      ['previousImageTag', iteration.previousImageTag],
      ['workflowId', iteration.workflowId],
    ],
    cases,
  };
}

function rollbackCase(record: RollbackRecord): Case {
  const { action, env, target, fromImageTag, toImageTag, detail } = record;
  const move = fromImageTag || toImageTag ? `image: ${fromImageTag ?? '?'} -> ${toImageTag ?? '?'}` : '';
  const out = [move, detail ?? ''].filter(Boolean).join('\n');
  const base = { name: `${action}${env ? ` ${env}` : ''}: ${target}`, time: seconds(0), ...(out ? { out } : {}) };
  if (record.status === 'failed')
    return { ...base, failure: record.failure ?? { type: 'RollbackFailed', message: `${action} of ${target} failed` } };
  if (record.status === 'skipped') return { ...base, skipped: detail ?? 'not needed' };
  return base;
}

function rollbackSuite(report: ValidationReport, prefix: string): Suite {
  return {
    name: `${prefix}rollback`,
    classname: `shepherd.validatePipeline.${report.appName}.rollback`,
    timestamp: timestamp(report.finishedAt),
    properties: [['status', report.status]],
    cases: report.rollback.map(rollbackCase),
  };
}

type TimedSuite = { readonly suite: Suite; readonly ms: number };

/** A validation's suites: one per iteration, and `rollback` when anything was undone; names start with `prefix`. */
function validationSuites(report: ValidationReport, prefix = ''): TimedSuite[] {
  const suites: TimedSuite[] = report.iterations.map((iteration) => ({
    suite: iterationSuite(report, iteration, prefix),
    ms: iteration.steps.reduce((sum, step) => sum + (step.durationMs ?? 0), 0),
  }));
  if (report.rollback.length > 0) suites.push({ suite: rollbackSuite(report, prefix), ms: 0 });
  return suites;
}

/** A promotion's suite: one case per step (the failure as its own case when no step records it) and per undo. */
function promotionSuite(report: PromotionReport): TimedSuite {
  const cases: Case[] = report.steps.map(stepCase);
  if (report.failure && !cases.some((testCase) => testCase.failure))
    cases.push({ name: 'promote-environment', time: seconds(0), failure: report.failure });
  cases.push(...report.rollback.map(rollbackCase));
  if (cases.length === 0) cases.push({ name: 'promote-environment', time: seconds(report.durationMs) });
  return {
    suite: {
      name: `${report.appName}: ${report.sourceEnv ?? '?'} → ${report.targetEnv ?? '?'}`,
      classname: `shepherd.promoteEnvironment.${report.appName}.${report.targetEnv ?? 'unknown'}`,
      timestamp: timestamp(report.startedAt),
      properties: [
        ['status', report.status],
        ['imageTag', report.imageTag],
        ['previousImageTag', report.previousImageTag],
        ['workflowId', report.workflowId],
      ],
      cases,
    },
    ms: report.durationMs ?? 0,
  };
}

function document(name: string, suites: readonly TimedSuite[], durationMs: number): string {
  const all = counts(suites.flatMap((entry) => entry.suite.cases));
  // <testsuites> takes no `skipped` attribute in junit-10.xsd; each <testsuite> has its own.
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(name)}" tests="${all.tests}" failures="${all.failures}" errors="0" time="${seconds(durationMs)}">`,
    ...suites.map((entry) => renderSuite(entry.suite, entry.ms)),
    '</testsuites>',
    '',
  ].join('\n');
}

export function toJUnitXml(report: ValidationReport): string {
  return document(`validatePipeline ${report.appName}`, validationSuites(report), report.durationMs);
}

/**
 * A fan-out's report as one JUnit document: a validation fan-out has each app's iteration and rollback suites,
 * named `<app>: iteration 1: dev`; a promotion fan-out one suite per app.
 */
export function fanOutToJUnitXml(report: FanOutReport): string {
  const suites =
    report.kind === 'validate'
      ? report.apps.flatMap((app) => validationSuites(app, `${app.appName}: `))
      : report.apps.map(promotionSuite);
  return document(`fanOutApps ${report.kind} (${report.apps.length} apps)`, suites, report.durationMs);
}
