/**
 * The JUnit XML of a validation run is valid against the schema the Jenkins xUnit plugin validates reports with
 * (fixtures/junit-10.xsd), checked by libxml2's xmllint (compiled to WebAssembly, no network), and says what
 * happened: one case per step, failures with their causes, skipped iterations, the rollback, counts that add up.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { ValidationReport } from '../../../src/domain/report.js';
import { fanOutToJUnitXml, toJUnitXml } from '../../../src/reports/junit.js';
import {
  NASTY,
  failedEarlyReport,
  nastyReport,
  promotionFanOutReport,
  rolledBackReport,
  succeededReport,
  validationFanOutReport,
} from './sample-reports.js';

const XSD = readFileSync(new URL('./fixtures/junit-10.xsd', import.meta.url), 'utf8');

async function schemaErrors(xml: string): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'report.junit.xml', contents: xml }],
    schema: [{ fileName: 'junit-10.xsd', contents: XSD }],
  });
  if (result.valid) return [];
  return result.errors.length > 0 ? result.errors.map((e) => e.rawMessage) : [result.rawOutput];
}

/** Decodes the five predefined entities and character references (the document is known to be well-formed). */
function unescape(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

interface Element {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly body: string;
}

/** The elements named `tag` with their attributes and raw content (no nesting of the same tag in this format). */
function elements(xml: string, tag: string): Element[] {
  const re = new RegExp(`<${tag}((?:\\s+[\\w:-]+="[^"]*")*)\\s*(?:/>|>([\\s\\S]*?)</${tag}>)`, 'g');
  return [...xml.matchAll(re)].map((m) => ({
    tag,
    attrs: Object.fromEntries([...(m[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, unescape(a[2]!)])),
    body: m[2] ?? '',
  }));
}

function suites(xml: string): Array<Element & { cases: Element[] }> {
  return elements(xml, 'testsuite').map((s) => ({ ...s, cases: elements(s.body, 'testcase') }));
}

const reports: Array<[string, () => ValidationReport]> = [
  ['succeeded', succeededReport],
  ['rolled back', rolledBackReport],
  ['failed early with iterations not run', failedEarlyReport],
  ['full of markup and control characters', nastyReport],
];

describe('JUnit XML', () => {
  it('fails validation for a document that breaks the schema (the validator works)', async () => {
    const bad = toJUnitXml(succeededReport()).replace('<testcase ', '<testcase bogus="1" ');
    const errors = await schemaErrors(bad);
    expect(errors.join('\n')).toMatch(/bogus/);
    expect(await schemaErrors('<testsuites><testsuite name="x"/></testsuites>')).not.toEqual([]);
  });

  it.each(reports)('is valid against junit-10.xsd: %s', async (_name, make) => {
    expect(await schemaErrors(toJUnitXml(make()))).toEqual([]);
  });

  it.each(reports)('has counts that add up: %s', (_name, make) => {
    const xml = toJUnitXml(make());
    const root = elements(xml, 'testsuites')[0]!;
    let tests = 0;
    let failures = 0;
    for (const s of suites(xml)) {
      expect(Number(s.attrs.tests)).toBe(s.cases.length);
      const failed = s.cases.filter((c) => c.body.includes('<failure')).length;
      const skipped = s.cases.filter((c) => c.body.includes('<skipped')).length;
      expect(Number(s.attrs.failures)).toBe(failed);
      expect(Number(s.attrs.skipped)).toBe(skipped);
      expect(s.attrs.errors).toBe('0');
      expect(s.attrs.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      tests += s.cases.length;
      failures += failed;
    }
    expect(Number(root.attrs.tests)).toBe(tests);
    expect(Number(root.attrs.failures)).toBe(failures);
  });

  it('shows a succeeded run as one suite per iteration and one passing case per step', () => {
    const report = succeededReport();
    const xml = toJUnitXml(report);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    const ss = suites(xml);
    expect(ss.map((s) => s.attrs.name)).toEqual(['iteration 1: dev', 'iteration 2: stage', 'iteration 3: prod']);
    expect(ss.map((s) => s.cases.map((c) => c.attrs.name))).toEqual(
      report.iterations.map((i) => i.steps.map((s) => s.name)),
    );
    expect(xml).not.toContain('<failure');
    expect(xml).not.toContain('<skipped');
    const dev = ss[0]!;
    expect(dev.cases[0]!.attrs.classname).toBe('shepherd.validatePipeline.example-app.dev');
    expect(dev.cases[1]!.attrs.time).toBe('95.250');
    expect(dev.attrs.time).toBe('99.750');
    expect(dev.attrs.timestamp).toBe('2025-03-04T02:00:00');
    expect(dev.cases[1]!.body).toContain('build: https://jenkins.example/job/example-app/job/main/41/');
    expect(dev.cases[2]!.body).toContain(
      'merge request: https://gitlab.example/p2c/k8s-deployments/-/merge_requests/12',
    );
    expect(dev.body).toContain('<property name="imageTag" value="1.0.37-abc1234"/>');
    expect(ss[1]!.body).toContain('<property name="workflowId" value="promote-example-app-stage"/>');
    expect(elements(xml, 'testsuites')[0]!.attrs).toMatchObject({
      name: 'validatePipeline example-app',
      tests: '8',
      failures: '0',
      time: '400.000',
    });
  });

  it('shows a rolled-back run: the failed step with its causes, the iteration not run, and every undo', () => {
    const xml = toJUnitXml(rolledBackReport());
    const ss = suites(xml);
    expect(ss.map((s) => s.attrs.name)).toEqual([
      'iteration 1: dev',
      'iteration 2: stage',
      'iteration 3: prod',
      'rollback',
    ]);
    const failed = ss[1]!.cases.find((c) => c.attrs.name === 'await-healthy')!;
    const failure = elements(failed.body, 'failure')[0]!;
    expect(failure.attrs).toEqual({
      message: 'stage: Deployment example-app has 0/2 ready replicas after 300 s',
      type: 'EnvironmentUnhealthy',
    });
    expect(unescape(failure.body)).toBe(
      'EnvironmentUnhealthy: stage: Deployment example-app has 0/2 ready replicas after 300 s\ncaused by TimeoutFailure: activity StartToClose timeout\ncaused by Error: pod example-app-7d9 CrashLoopBackOff',
    );
    expect(ss[2]!.cases).toHaveLength(1);
    expect(ss[2]!.cases[0]!.attrs.name).toBe('prod not run');
    expect(elements(ss[2]!.cases[0]!.body, 'skipped')[0]!.attrs.message).toBe('iteration 3 did not run (not_run)');
    const rollback = ss[3]!;
    expect(rollback.cases.map((c) => c.attrs.name)).toEqual([
      'revert-merge-request stage: !13',
      'await-previous-image stage: example-app-stage',
      'delete-branch stage: promote-stage-1.0.37-abc1234',
    ]);
    expect(rollback.attrs).toMatchObject({ tests: '3', failures: '0', skipped: '1' });
    expect(unescape(rollback.cases[1]!.body)).toContain('image: 1.0.37-abc1234 -> 1.0.36-0ffee00');
  });

  it('gives a failed step a <failure> even without a failure summary, and reports a failed undo as a failure', () => {
    const ss = suites(toJUnitXml(failedEarlyReport()));
    const build = ss[0]!.cases[1]!;
    expect(elements(build.body, 'failure')[0]!.attrs).toEqual({
      message: 'step await-ci-build failed',
      type: 'StepFailed',
    });
    expect(ss.map((s) => s.cases.length)).toEqual([2, 1, 1, 1]);
    const undo = elements(ss[3]!.cases[0]!.body, 'failure')[0]!;
    expect(undo.attrs).toEqual({ message: 'HTTP 503', type: 'GitLabUnavailable' });
  });

  it('adds the run failure as a case when no step of its iteration records it', () => {
    const report = failedEarlyReport();
    const noStep: ValidationReport = {
      ...report,
      iterations: [{ ...report.iterations[0]!, steps: [] }, ...report.iterations.slice(1)],
    };
    const dev = suites(toJUnitXml(noStep))[0]!;
    expect(dev.cases.map((c) => c.attrs.name)).toEqual(['dev not run', 'await-ci-build']);
    expect(elements(dev.cases[1]!.body, 'failure')[0]!.attrs).toEqual({
      message: 'Jenkins build #42 FAILURE',
      type: 'BuildFailed',
    });
  });

  it('escapes markup, keeps tabs and newlines, and drops characters XML 1.0 cannot carry', () => {
    const xml = toJUnitXml(nastyReport());
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/u);
    const expected = 'a <b> & "c" \'d\' | e\ttab\r\nnext ]]>   end ✓ 🚀';
    const ss = suites(xml);
    const failure = elements(ss[0]!.cases[1]!.body, 'failure')[0]!;
    expect(failure.attrs.message).toBe(expected);
    expect(failure.attrs.type).toBe('Weird<&">Type');
    expect(unescape(failure.body)).toBe(`Weird<&">Type: ${expected}\ncaused by Cause: inner ${expected}`);
    expect(ss[0]!.cases[0]!.attrs.name).toBe(`step <&"> ${expected}`);
    expect(ss[0]!.cases[0]!.attrs.classname).toBe('shepherd.validatePipeline.app-<&">.dev');
    expect(unescape(ss[0]!.cases[0]!.body)).toContain('merge request: https://gitlab.example/mr?a=1&b=2');
    expect(elements(xml, 'testsuites')[0]!.attrs.name).toBe('validatePipeline app-<&">');
    expect(ss[1]!.cases.map((c) => elements(c.body, 'skipped')[0]?.attrs.message)).toEqual([
      'step cancelled',
      'step running',
    ]);
    expect(NASTY).toContain('\u0000');
  });
});

describe('JUnit XML of a fan-out', () => {
  it.each([
    ['validation', validationFanOutReport],
    ['promotion', promotionFanOutReport],
  ])('is valid against junit-10.xsd, one document for every app: %s', async (_name, make) => {
    expect(await schemaErrors(fanOutToJUnitXml(make()))).toEqual([]);
  });

  it("holds every app's suites, named after the app, with counts that add up", () => {
    const xml = fanOutToJUnitXml(validationFanOutReport());
    const names = suites(xml).map((s) => s.attrs.name);
    expect(names).toContain('orders: iteration 1: dev');
    expect(names).toContain('billing: iteration 2: stage');
    expect(names).toContain('billing: rollback');
    expect(names).toContain('search: iteration 1: dev');
    expect(new Set(names).size).toBe(names.length);
    const one = (report: ValidationReport) => elements(toJUnitXml(report), 'testcase').length;
    const [orders, billing, search] = validationFanOutReport().apps as ValidationReport[];
    expect(Number(elements(xml, 'testsuites')[0]!.attrs.tests)).toBe(one(orders!) + one(billing!) + one(search!));
  });

  it('gives each promoted app one suite: its steps, its failure and its undos', () => {
    const xml = fanOutToJUnitXml(promotionFanOutReport());
    const [orders, billing] = suites(xml);
    expect(orders!.attrs).toMatchObject({ name: 'orders: dev → stage', failures: '0' });
    expect(billing!.attrs).toMatchObject({ name: 'billing: dev → stage', failures: '1' });
    expect(billing!.cases.map((c) => c.attrs.name)).toEqual([
      'await-healthy',
      'revert-merge-request stage: !21',
      'await-previous-image stage: billing-stage',
    ]);
  });
});
