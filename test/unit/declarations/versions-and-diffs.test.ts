import { describe, expect, it } from 'vitest';
import { bumpVersion, nextVersion, unifiedDiff } from '../../../activities/gitlab/declarations/index.js';
import { ValidationError } from '../../../src/domain/errors.js';

describe('version bumps', () => {
  it('raises the last number of the version and keeps a leading v and any suffix', () => {
    expect(nextVersion('1.0.36-SNAPSHOT')).toBe('1.0.37-SNAPSHOT');
    expect(nextVersion('1.2.9')).toBe('1.2.10');
    expect(nextVersion('v2.7')).toBe('v2.8');
    expect(nextVersion('3.1.0-rc1')).toBe('3.1.1-rc1');
    expect(nextVersion('41')).toBe('42');
    expect(() => nextVersion('latest', 'VERSION')).toThrow(/VERSION must declare a numeric version/);
  });

  it('bumps the project version of a pom, not the parent’s or a dependency’s', () => {
    const pom = [
      '<project>',
      '  <parent>',
      '    <version>3.8.1</version>',
      '  </parent>',
      '  <version>1.0.36-SNAPSHOT</version>',
      '  <dependency><version>2.0.0</version></dependency>',
      '</project>',
      '',
    ].join('\n');
    const bump = bumpVersion('maven', pom, 'pom.xml');
    expect(bump).toMatchObject({ from: '1.0.36-SNAPSHOT', to: '1.0.37-SNAPSHOT' });
    expect(bump.content).toBe(pom.replace('1.0.36-SNAPSHOT', '1.0.37-SNAPSHOT'));
    expect(() => bumpVersion('maven', '<project/>', 'pom.xml')).toThrow(ValidationError);
  });

  it.each([2, 4])('bumps the top-level version of a package.json indented by %i, not a nested one', (indent) => {
    const pkg = `${JSON.stringify(
      {
        name: 'orders-ui',
        config: { version: '9.9.9' },
        version: '0.14.2',
        dependencies: { 'left-pad': '1.3.0' },
        note: 'a "version": "1.0.0" in a string',
      },
      null,
      indent,
    )}\n`;
    const bump = bumpVersion('npm', pkg, 'package.json');
    expect(bump).toMatchObject({ from: '0.14.2', to: '0.14.3' });
    expect(bump.content).toBe(pkg.replace('"0.14.2"', '"0.14.3"'));
    expect(JSON.parse(bump.content)).toMatchObject({ version: '0.14.3', config: { version: '9.9.9' } });
  });

  it('refuses a package.json without a top-level version, naming the file', () => {
    expect(() => bumpVersion('npm', '{"name": "x", "config": {"version": "1.0.0"}}', 'ui/package.json')).toThrow(
      /ui\/package\.json must contain a top-level "version"/,
    );
  });

  it('bumps version= in gradle.properties and leaves the other keys alone', () => {
    const props = [
      '# Project properties',
      'org.gradle.jvmargs=-Xmx2g',
      'versionCode=7',
      'version = 2.3.4-SNAPSHOT  ',
      'kotlin.code.style=official',
      '',
    ].join('\n');
    const bump = bumpVersion('gradle', props, 'gradle.properties');
    expect(bump).toMatchObject({ from: '2.3.4-SNAPSHOT', to: '2.3.5-SNAPSHOT' });
    expect(bump.content).toBe(props.replace('2.3.4-SNAPSHOT', '2.3.5-SNAPSHOT'));
    expect(() => bumpVersion('gradle', 'versionCode=7\n', 'gradle.properties')).toThrow(/a version= property/);
  });

  it('bumps a plain VERSION file and keeps its trailing newline (or its absence)', () => {
    expect(bumpVersion('plain', '1.4.0\n', 'VERSION')).toEqual({ content: '1.4.1\n', from: '1.4.0', to: '1.4.1' });
    expect(bumpVersion('plain', '1.4.0', 'VERSION').content).toBe('1.4.1');
    expect(() => bumpVersion('plain', '1.4.0\nnotes\n', 'VERSION')).toThrow(/VERSION must contain one version/);
  });
});

describe('unified diffs', () => {
  const lines = (n: number): string[] => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

  it('is empty for equal texts', () => {
    expect(unifiedDiff('a.yaml', 'x\n', 'x\n')).toBe('');
  });

  it('shows one change with three lines of context on each side, as diff -u does', () => {
    const before = `${lines(10).join('\n')}\n`;
    const after = before.replace('line 5\n', 'line five\n');
    expect(unifiedDiff('qa/values.yaml', before, after)).toBe(
      [
        '--- a/qa/values.yaml',
        '+++ b/qa/values.yaml',
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '',
      ].join('\n'),
    );
  });

  it('keeps changes far apart in separate hunks and close ones in one', () => {
    const before = `${lines(30).join('\n')}\n`;
    const far = before.replace('line 2\n', 'two\n').replace('line 20\n', 'twenty\n');
    expect(unifiedDiff('f', before, far).match(/^@@ .* @@$/gm)).toEqual(['@@ -1,5 +1,5 @@', '@@ -17,7 +17,7 @@']);
    const near = before.replace('line 2\n', 'two\n').replace('line 9\n', 'nine\n');
    expect(unifiedDiff('f', before, near).match(/^@@ .* @@$/gm)).toEqual(['@@ -1,12 +1,12 @@']);
  });

  it('shows added and removed lines and a missing newline at the end', () => {
    expect(unifiedDiff('VERSION', '1.0.0', '1.0.1\n')).toBe(
      ['--- a/VERSION', '+++ b/VERSION', '@@ -1 +1 @@', '-1.0.0', '\\ No newline at end of file', '+1.0.1', ''].join(
        '\n',
      ),
    );
    expect(unifiedDiff('k.yaml', 'a\nb\n', 'a\nb\nc\n')).toBe(
      ['--- a/k.yaml', '+++ b/k.yaml', '@@ -1,2 +1,3 @@', ' a', ' b', '+c', ''].join('\n'),
    );
    expect(unifiedDiff('new.yaml', '', 'x\n')).toBe(
      ['--- a/new.yaml', '+++ b/new.yaml', '@@ -0,0 +1 @@', '+x', ''].join('\n'),
    );
  });

  it('turns the old text into the new one when applied, for many random edits', () => {
    let state = 12345;
    const random = (n: number): number => {
      // mulberry32: a small deterministic generator, so a failure reproduces.
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n) as number;
    };
    for (let run = 0; run < 200; run++) {
      const a = Array.from({ length: random(50) }, () => `line ${random(6)}`);
      const b = a.filter(() => random(8) > 0).flatMap((l) => (random(10) === 0 ? [l, `new ${random(4)}`] : [l]));
      const before = a.join('\n') + (a.length > 0 && random(4) > 0 ? '\n' : '');
      const after = b.join('\n') + (b.length > 0 && random(4) > 0 ? '\n' : '');
      expect(applyUnifiedDiff(before, unifiedDiff('f', before, after))).toBe(after);
    }
  });
});

/** Applies a unified diff as patch(1) does, strictly: every context and removed line must match. */
function applyUnifiedDiff(text: string, diff: string): string {
  if (diff === '') return text;
  const source = text === '' ? [] : text.split(/(?<=\n)/);
  const out: string[] = [];
  let at = 0;
  const lines = diff.split('\n').slice(2, -1);
  for (let i = 0; i < lines.length; i++) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(lines[i]!);
    if (header) {
      const start = Number(header[1]) - (header[2] === '0' ? 0 : 1);
      out.push(...source.slice(at, start));
      at = start;
      continue;
    }
    const line = lines[i]!;
    const noNewline = lines[i + 1] === '\\ No newline at end of file';
    const full = line.slice(1) + (noNewline ? '' : '\n');
    if (noNewline) i++;
    if (line.startsWith('+')) out.push(full);
    else {
      expect(source[at]).toBe(full);
      if (line.startsWith(' ')) out.push(full);
      at++;
    }
  }
  return [...out, ...source.slice(at)].join('');
}
