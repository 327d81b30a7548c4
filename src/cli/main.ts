/**
 * `shepherd` — the command-line entry point. One file a subcommand under `commands/`, imported only when that
 * subcommand runs (a CLI call would otherwise load every command's dependencies: seconds of CPU each time).
 */
import { pathToFileURL } from 'node:url';
import { EXIT, runCommand, type CommandEntry, type CommandIo } from './command.js';

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'Run the full three-environment validation on the embedded default: dev server, sandbox world, worker.',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  {
    name: 'dev-server',
    summary: 'Run the embedded Temporal dev server (SQLite in the state folder, Web UI on) until Ctrl-C.',
    load: async () => (await import('./commands/dev-server.js')).devServerCommand,
  },
  {
    name: 'sandbox',
    summary: 'Run the sandbox world (simulated GitLab, Jenkins, Kubernetes + Argo CD) until Ctrl-C.',
    load: async () => (await import('./commands/sandbox.js')).sandboxCommand,
  },
  {
    name: 'worker',
    summary: 'Run a Shepherd worker on the configured task queue until Ctrl-C or SIGTERM.',
    load: async () => (await import('./commands/worker.js')).workerCommand,
  },
  {
    name: 'webhooks',
    summary:
      'Run the webhook receiver: GitLab and Jenkins events wake the runs they concern; --print-config says what to register.',
    load: async () => (await import('./commands/webhooks.js')).webhooksCommand,
  },
  {
    name: 'validate',
    summary: 'Start the end-to-end pipeline validation (validatePipeline) and, with --follow, watch it to the report.',
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  {
    name: 'promote',
    summary:
      'Promote an app from one environment to the next (promoteEnvironment), one promotion per target at a time.',
    load: async () => (await import('./commands/promote.js')).promoteCommand,
  },
  {
    name: 'approve',
    summary: 'Approve a promotion that waits for approval (in GitLab with your token, or the `approve` update).',
    load: async () => (await import('./commands/approve.js')).approveCommand,
  },
  {
    name: 'reject',
    summary: 'Reject a promotion that waits for approval; it closes its MR and branch.',
    load: async () => (await import('./commands/reject.js')).rejectCommand,
  },
  {
    name: 'override-freeze',
    summary: 'Let a promotion merge into its frozen target now (an approver, with a reason); recorded and notified.',
    load: async () => (await import('./commands/override-freeze.js')).overrideFreezeCommand,
  },
  {
    name: 'status',
    summary: 'Where a run is and what it waits on; without an id, the running runs of the app.',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'report',
    summary:
      'Write the reports of a finished run: a validation (JSON, Markdown, JUnit XML) or a promotion (JSON, Markdown).',
    load: async () => (await import('./commands/report.js')).reportCommand,
  },
  {
    name: 'schedule',
    summary: 'Manage the nightly validation: a Temporal Schedule that starts validatePipeline on a cron.',
    load: async () => (await import('./commands/schedule.js')).scheduleCommand,
  },
  {
    name: 'chaos',
    summary:
      'Run N validations against the sandbox while killing workers, restarting the dev server and switching faults on and off.',
    load: async () => (await import('./commands/chaos.js')).chaosCommand,
  },
  {
    name: 'config',
    summary: 'Check the configuration and show what Shepherd will use (secrets are shown as [redacted]).',
    load: async () => (await import('./commands/config.js')).configCommand,
  },
  {
    name: 'doctor',
    summary: 'Check the configured installation for real (Temporal, GitLab, Jenkins, the cluster) and say what to fix.',
    load: async () => (await import('./commands/doctor.js')).doctorCommand,
  },
];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: shepherd <command> [options]',
    '',
    'Durable GitOps promotion and end-to-end pipeline validation on Temporal.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `shepherd <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 the run failed, 2 usage or configuration error.',
    '',
  ].join('\n');
}

const processIo: CommandIo = {
  out: (s) => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s) => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

/** Runs `shepherd <argv>` and returns its exit code; `io` receives stdout and stderr lines (the process's by default). */
export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(topHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.err(
      `shepherd: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See shepherd --help.`,
    );
    return EXIT.usage;
  }
  return runCommand(entry, rest, io);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`shepherd: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
