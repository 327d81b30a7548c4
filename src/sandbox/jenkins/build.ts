/**
 * One build (a `Run`): its identity, parameters, causes, console log and outcome. Holds state only; the model
 * starts the runner and decides the result.
 */
import type { BuildCause, BuildResult, GitRevision, ParameterValue, ScmRevision } from './types.js';

/** The first console line Jenkins prints for a cause. */
export function causeDescription(cause: BuildCause): string {
  switch (cause.kind) {
    case 'user':
      return `Started by user ${cause.userName}`;
    case 'remote':
      return `Started by remote host ${cause.addr}${cause.note ? ` with note: ${cause.note}` : ''}`;
    case 'branch-event':
      return cause.description ?? 'Branch event';
    case 'branch-indexing':
      return 'Branch indexing';
  }
}

export class Build {
  readonly id: string;
  result: BuildResult | undefined;
  /** Epoch ms when the build started. */
  readonly timestamp: number;
  /** Milliseconds; 0 while building. */
  duration = 0;
  description: string | undefined;
  displayName: string;
  /**
   * One BuildData per distinct checkout, in checkout order: a Pipeline that loads a shared library (`@Library`)
   * checks the library out before the job's own repository.
   */
  readonly checkouts: GitRevision[] = [];
  /** The multibranch SCMRevisionAction: the revision branch-api decided to build. */
  scmRevision: ScmRevision | undefined;
  readonly abort = new AbortController();
  /** Who stopped the build, for the console line. */
  stoppedBy: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    readonly jobPath: readonly string[],
    readonly number: number,
    readonly queueId: number,
    readonly parameters: readonly ParameterValue[],
    readonly causes: readonly BuildCause[],
    readonly estimatedDuration: number,
    now: number,
  ) {
    this.id = String(number);
    this.timestamp = now;
    this.displayName = `#${number}`;
  }

  /** The first BuildData, the one `build.getAction(BuildData.class)` returns (what single-action readers see). */
  get gitRevision(): GitRevision | undefined {
    return this.checkouts[0];
  }

  /** Records a checkout; checking the same remote out again replaces its BuildData, as the git plugin does. */
  addCheckout(revision: GitRevision): void {
    const i = this.checkouts.findIndex((c) => c.remoteUrl === revision.remoteUrl);
    if (i >= 0) this.checkouts[i] = revision;
    else this.checkouts.push(revision);
  }

  get building(): boolean {
    return this.result === undefined;
  }

  /** Appends a line (a trailing newline is added). */
  log(line: string): void {
    const chunk = Buffer.from(`${line}\n`, 'utf8');
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Size of the console log in bytes. */
  get logSize(): number {
    return this.size;
  }

  /** The console log from byte `start` on. */
  logFrom(start: number): Buffer {
    return Buffer.concat(this.chunks).subarray(start);
  }

  get logText(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  finish(result: BuildResult, now: number): void {
    if (this.result !== undefined) return;
    this.log(`Finished: ${result}`);
    this.result = result;
    this.duration = Math.max(1, now - this.timestamp);
  }
}
