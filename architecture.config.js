// Shepherd's architecture: the parts of the code and what each part may import. This file is the single source;
// eslint.config.js turns it into eslint-plugin-boundaries policies, so `npm run lint` fails on any import the table
// does not allow (value and `import type` alike), and the README's architecture section cites it.
//
// A part lists:
//   folder       the folder it owns, from the repository root (a file belongs to the first part whose folder holds it);
//   imports      the parts it may import values and types from (its own files are always allowed);
//   typeImports  the parts it may import only with `import type` / `export type … from`;
//   packages     the npm packages it may import (micromatch patterns), or '*' for any;
//   builtins     whether it may import Node built-ins (`node:fs`, …);
//   why          the reason, in one line.
// Tests and scripts are not parts: they may import anything, so the policies do not apply to them.

/** @typedef {{ folder: string, imports: string[], typeImports?: string[], packages: string[] | '*', builtins: boolean, why: string }} Part */

/** @type {Record<string, Part>} */
export const parts = {
  workflows: {
    folder: 'workflows',
    imports: ['domain', 'temporal-common', 'observability'],
    typeImports: ['activities'],
    packages: ['@temporalio/workflow', '@temporalio/common', 'zod'],
    builtins: false,
    why: 'workflow code runs in the deterministic sandbox and calls activities only through proxyActivities',
  },
  activities: {
    folder: 'activities',
    // Values from clients: the activities match the clients' error classes (KubernetesApiError, WebhookRejectedError)
    // with instanceof; the clients themselves arrive by injection from the worker. The proto package only names
    // history event types for the waits that follow their run's history (wakeups.ts). yaml: the deployments repo's
    // image declarations are edited in place by its node ranges, keeping comments (gitlab/declarations/).
    imports: ['domain', 'temporal-common', 'clients'],
    packages: ['@temporalio/activity', '@temporalio/common', '@temporalio/proto', 'zod', 'yaml'],
    builtins: true,
    why: 'activities are thin: clients are injected, configuration is never read, the sandbox is never known',
  },
  domain: {
    folder: 'src/domain',
    imports: [],
    packages: ['zod'],
    builtins: false,
    why: 'pure types, errors and rules shared by workflows and activities: no I/O, no Temporal, no clients',
  },
  clients: {
    folder: 'src/clients',
    // The clients take their credentials as the config's Secret type; they never load configuration.
    imports: ['domain'],
    typeImports: ['config'],
    packages: '*',
    builtins: true,
    why: 'the only place vendor libraries are imported; maps their errors to ours',
  },
  config: {
    folder: 'src/config',
    imports: ['domain'],
    // yaml: the pipeline file, read with its line numbers so that every problem names its line.
    packages: ['zod', 'yaml'],
    builtins: true,
    why: 'one schema over the environment; knows the domain, nothing that runs',
  },
  'temporal-common': {
    folder: 'src/temporal/common',
    imports: ['domain'],
    packages: ['@temporalio/common'],
    builtins: false,
    why: 'the Temporal vocabulary (failures, presets, search-attribute keys) shared by workflows and activities',
  },
  temporal: {
    folder: 'src/temporal',
    imports: ['domain', 'config', 'temporal-common'],
    packages: ['@temporalio/*'],
    builtins: true,
    why: 'the Temporal edge: dev server, binaries, connections',
  },
  worker: {
    folder: 'src/worker',
    imports: [
      'workflows',
      'activities',
      'domain',
      'clients',
      'config',
      'temporal-common',
      'temporal',
      'reports',
      'doctor',
      'observability',
      'tracing',
    ],
    packages: ['@temporalio/*'],
    builtins: true,
    why: 'the composition root (config → clients → activities → Worker); it must not know the sandbox',
  },
  cli: {
    folder: 'src/cli',
    imports: [
      'workflows',
      'activities',
      'domain',
      'clients',
      'config',
      'temporal-common',
      'temporal',
      'worker',
      'sandbox',
      'chaos',
      'reports',
      'doctor',
      'observability',
      'tracing',
      'webhooks',
    ],
    packages: '*',
    builtins: true,
    why: 'one file per subcommand; the CLI wires every part, the sandbox world included',
  },
  tracing: {
    folder: 'src/tracing',
    // Tracing takes the OTLP headers as the config's Secret type; it never loads configuration.
    imports: ['temporal-common'],
    typeImports: ['config'],
    packages: ['@opentelemetry/*', '@temporalio/*'],
    builtins: false,
    why: 'OpenTelemetry set-up for the worker: the only place the OpenTelemetry SDK is imported',
  },
  sandbox: {
    folder: 'src/sandbox',
    imports: [],
    // node-forge: the world's own CA and server certificate (trait tls).
    packages: ['yaml', 'zod', 'node-forge'],
    builtins: true,
    why: 'the simulated world checks Shepherd from outside, so it re-implements what it needs rather than import it',
  },
  chaos: {
    folder: 'src/chaos',
    imports: ['domain', 'temporal-common', 'temporal', 'workflows', 'sandbox', 'config'],
    packages: ['@temporalio/client'],
    builtins: true,
    why: 'runs scenarios against the sandbox world and starts workflows through a Temporal client; finds the shepherd binary it starts from the project root (config/paths)',
  },
  bench: {
    folder: 'src/bench',
    imports: ['domain', 'temporal-common', 'temporal', 'workflows', 'sandbox', 'config', 'chaos', 'worker'],
    packages: ['@temporalio/client', '@temporalio/worker', '@temporalio/proto'],
    builtins: true,
    why: "issue 14's benchmark: starts the stack as processes (the chaos stack), drives the sandbox's APIs as the seed's flow does, and hosts workers to measure them",
  },
  doctor: {
    folder: 'src/doctor',
    imports: ['domain', 'clients', 'config', 'temporal-common', 'temporal'],
    packages: ['@temporalio/client', '@temporalio/proto', 'yaml'],
    builtins: true,
    why: 'checks a configured installation through the same clients the activities use, and says what to fix',
  },
  webhooks: {
    folder: 'src/webhooks',
    // The receiver takes its secrets as the config's Secret type and never loads configuration; it reaches runs only
    // through a Temporal client it is given.
    imports: ['domain', 'observability'],
    typeImports: ['config'],
    packages: ['@temporalio/client', '@temporalio/common', 'zod'],
    builtins: true,
    why: 'the webhook receiver: authenticates deliveries, routes them to runs by the pipeline layout, signals them',
  },
  observability: {
    folder: 'src/observability',
    imports: ['domain'],
    packages: ['@temporalio/common'],
    builtins: false,
    why: 'metric names and log rendering: deterministic, so the journal records metrics from workflow code',
  },
  reports: {
    folder: 'src/reports',
    imports: ['domain'],
    packages: [],
    builtins: true,
    why: 'renders run reports from domain types',
  },
};

/** Packages that only one part may import, whatever the other parts' `packages` say. */
export const ownedPackages = {
  '@gitbeaker/*': 'clients',
  jenkins: 'clients',
  '@kubernetes/client-node': 'clients',
  // The fetch dispatcher that trusts SHEPHERD_CA_FILE (part F).
  undici: 'clients',
  '@opentelemetry/*': 'tracing',
};
