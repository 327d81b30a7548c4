/**
 * The version files of the simulated app repos, one per version format, and how their CI reads the version back:
 * Maven `pom.xml` (the first `<version>`), npm `package.json` (`"version"`), Gradle `gradle.properties`
 * (`version=`), a plain `VERSION` file, or none. Pure functions: no model, no I/O.
 */
import { renderPom, versionInPom } from './deployments-repo.js';
import type { WorldVersionFormat } from './layout.js';

/** The version file of an app at `version`, as its team keeps it. */
export function renderVersionFile(format: Exclude<WorldVersionFormat, 'none'>, app: string, version: string): string {
  switch (format) {
    case 'maven':
      return renderPom(app, version);
    case 'npm':
      return `${JSON.stringify(
        {
          name: app,
          version,
          private: true,
          scripts: { build: 'tsc -p .', test: 'vitest run' },
          dependencies: { fastify: '^4.26.0' },
        },
        null,
        2,
      )}\n`;
    case 'gradle':
      return `# Gradle project properties\norg.gradle.jvmargs=-Xmx1g\ngroup=com.example\nversion=${version}\n`;
    case 'plain':
      return `${version}\n`;
  }
}

/** The version a version file declares, or undefined when it declares none. */
export function versionInFile(format: Exclude<WorldVersionFormat, 'none'>, text: string): string | undefined {
  switch (format) {
    case 'maven':
      return versionInPom(text);
    case 'npm': {
      try {
        const parsed: unknown = JSON.parse(text);
        const v = parsed && typeof parsed === 'object' ? (parsed as { version?: unknown }).version : undefined;
        return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
      } catch {
        return undefined;
      }
    }
    case 'gradle':
      return /^\s*version\s*=\s*(\S+)\s*$/m.exec(text)?.[1];
    case 'plain':
      return text.trim().split('\n')[0]?.trim() || undefined;
  }
}

/** Where the app's build tool lives, for the Jenkinsfile's stages: the command that tests and publishes it. */
export function buildCommand(format: WorldVersionFormat): string {
  switch (format) {
    case 'maven':
      return 'mvn -B package jib:build';
    case 'npm':
      return 'npm ci && npm test && docker build --push .';
    case 'gradle':
      return './gradlew build jib';
    case 'plain':
    case 'none':
      return 'docker build --push .';
  }
}
