/**
 * Fault injection for the sandbox world.
 *
 * A scenario is a named list of rules. HTTP rules act on the wire, per system and endpoint (error status, 429 with
 * `Retry-After`, latency, connection reset, the whole system down for a while). Domain rules act inside the
 * simulated systems (a CI build fails, Argo CD's sync hangs, new pods crash) and are consumed by the models and
 * controllers through `domainFault`. Rules may be limited by a count and by a time window measured from the moment
 * the scenario was activated; scenarios can be switched at run time.
 */
import { z } from 'zod';
import type { SandboxResponse } from './http.js';

export const SYSTEM_NAMES = ['gitlab', 'jenkins', 'kubernetes'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

export const DOMAIN_FAULT_KINDS = [
  'ci-build-fails',
  'ci-build-unstable',
  'promote-job-fails',
  'promote-job-cancelled',
  'promote-job-starved',
  'promote-job-hangs',
  'mr-conflict',
  'mr-head-moves',
  'mr-merged-by-other',
  'argo-sync-fails',
  'argo-sync-hangs',
  // Part C: Argo CD health outcomes (real-installations.md §8.3).
  'argo-health-suspended',
  'argo-health-missing',
  'argo-health-unknown',
  'app-degraded',
  'pods-crashloop',
  'pods-imagepull',
] as const;
export type DomainFaultKind = (typeof DOMAIN_FAULT_KINDS)[number];

const windowFields = {
  /** Only after this many milliseconds since activation (wall time, not scaled). */
  afterMs: z.number().int().nonnegative().optional(),
  /** Only for this many milliseconds after `afterMs`. */
  forMs: z.number().int().positive().optional(),
  /** Only this many times; unlimited when absent. */
  count: z.number().int().positive().optional(),
};

export const HttpFaultRuleSchema = z
  .object({
    system: z.enum(SYSTEM_NAMES),
    /** HTTP method to match; any when absent. */
    method: z.string().optional(),
    /** Regular expression tested against the raw (still encoded) request path; any when absent. */
    path: z.string().optional(),
    /** Answer with this status instead of the real response. */
    status: z.number().int().min(400).max(599).optional(),
    /** Body for `status`; a system-typical body is used when absent. */
    body: z.string().optional(),
    /** Sent as `Retry-After` (seconds) with the status. */
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    /** Delay before answering, in milliseconds. */
    latencyMs: z.number().int().nonnegative().optional(),
    /** Reset the connection without an answer. */
    reset: z.boolean().optional(),
    /**
     * Handle the request first, then lose its answer: `status` replaces it (a proxy's 504 Gateway Timeout) or, with
     * `reset`, the connection drops. The system did the work; the caller never hears of it.
     */
    answerLost: z.boolean().optional(),
    /** Take the whole system off the network for `forMs` (connections refused), starting at `afterMs`. */
    down: z.boolean().optional(),
    ...windowFields,
  })
  .strict();
export type HttpFaultRule = z.infer<typeof HttpFaultRuleSchema>;

export const DomainFaultRuleSchema = z
  .object({
    kind: z.enum(DOMAIN_FAULT_KINDS),
    /** Environment (`dev`, `stage`, `prod`) the fault applies to; any when absent. */
    env: z.string().optional(),
    /** Application name; any when absent. */
    app: z.string().optional(),
    /** Only when the image is new to the environment (never ran healthy there). */
    newImageOnly: z.boolean().optional(),
    ...windowFields,
  })
  .strict();
export type DomainFaultRule = z.infer<typeof DomainFaultRuleSchema>;

/**
 * How the simulated installation is set up, where a real team's differs from the seed's: the settings of its GitLab
 * projects, Argo CD Applications and Jenkins jobs. Unlike faults they are fixed when the world starts (a running
 * world refuses a scenario with other traits), and the world names the Shepherd settings an operator of such an
 * installation would give (`WorldInfo.settings`).
 */
export const InstallationSchema = z
  .object({
    /**
     * The deployments project runs a GitLab pipeline on every MR head and allows merging only when it succeeds
     * (`only_allow_merge_if_pipeline_succeeds`): `succeeds`, or `fails`: the pipelines of MRs into every environment
     * but the first (dev) fail, so a run gets through dev (whose reverts still pass CI) and fails at stage.
     */
    deploymentsCi: z.enum(['succeeds', 'fails']).optional(),
    /** The deployments project's merge method; `ff` and `rebase_merge` need the MR rebased when its target moved. */
    mergeMethod: z.enum(['merge', 'rebase_merge', 'ff']).optional(),
    /** Someone else pushes to the target env branch while each promotion MR is open (so `ff` MRs need a rebase). */
    envBranchMoves: z.boolean().optional(),
    /** The app project's default branch is protected: no direct pushes for the token's user, merges only. */
    protectedAppDefault: z.boolean().optional(),
    /** These environments need an approval in GitLab (EE approval rules) from one of `approvers` (usernames). */
    gitlabApprovals: z
      .object({
        environments: z.array(z.string()).min(1),
        approvers: z.array(z.string()).min(1),
        required: z.number().int().positive().default(1),
      })
      .strict()
      .optional(),
    /** Other apps' commits land on the env branches between a merge and Argo CD's sync. */
    sharedEnvBranch: z.boolean().optional(),
    /** Environments whose Argo CD Application has no automated sync (someone, or Shepherd, starts each sync). */
    manualSync: z.array(z.string()).optional(),
    /** Argo CD Applications declare `spec.sources` (a manifests source and a `ref` values source). */
    multiSource: z.boolean().optional(),
    /** The CI job loads a Pipeline shared library: its builds carry a second BuildData (the library's repo) first. */
    jenkinsSharedLibrary: z.boolean().optional(),
    /** Queue items of the CI and promote jobs leave the queue without an executable for this many ms (scaled). */
    jenkinsSlowStartMs: z.number().int().positive().optional(),
    /** Every system serves HTTPS with a certificate of the world's own CA. */
    tls: z.boolean().optional(),
    /**
     * Part D: a second Deployment of the team (`<app>-worker`, its own image, selector with a matchExpression, two
     * containers) runs in every environment's namespace, its pods labelled `app=<app>` like the app's.
     */
    siblingWorkload: z.boolean().optional(),
  })
  .strict();
export type Installation = z.infer<typeof InstallationSchema>;

export const ScenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'scenario names are lower-case words joined by dashes'),
    description: z.string(),
    http: z.array(HttpFaultRuleSchema).default([]),
    domain: z.array(DomainFaultRuleSchema).default([]),
    installation: InstallationSchema.default({}),
  })
  .strict();
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** What the HTTP kernel should do with one request. */
export interface HttpFaultAction {
  latencyMs?: number;
  reset?: boolean;
  response?: SandboxResponse;
  /** Reset or answer `response` only after the request was handled (`answerLost`). */
  afterHandling?: boolean;
}

/** The facts a model or controller knows when it asks whether a domain fault applies. */
export interface DomainFaultContext {
  env?: string;
  app?: string;
  /** True when the image never ran healthy in `env`. */
  newImage?: boolean;
}

/** Anything that can be taken off the network for an outage. */
export interface Downable {
  setDown(down: boolean): Promise<void>;
}

interface ActiveRule<R> {
  rule: R;
  used: number;
}

/** Statuses' typical bodies, so that a 503 from "GitLab" looks like one. */
function defaultBody(system: SystemName, status: number): SandboxResponse {
  if (status === 429 && system === 'gitlab') {
    return { status, headers: { 'content-type': 'text/plain' }, body: 'Retry later\n' };
  }
  if (system === 'kubernetes') {
    const reason = status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : 'InternalError';
    return {
      status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `injected fault: ${status}`,
        reason,
        code: status,
      }),
    };
  }
  if (system === 'jenkins') {
    return {
      status,
      headers: { 'content-type': 'text/html;charset=utf-8' },
      body: `<html><body><h2>HTTP ERROR ${status}</h2></body></html>`,
    };
  }
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: `${status} injected fault` }),
  };
}

export class FaultEngine {
  private scenario: Scenario | undefined;
  private activatedAt = 0;
  private http: ActiveRule<HttpFaultRule>[] = [];
  private domain: ActiveRule<DomainFaultRule>[] = [];
  private readonly downables = new Map<SystemName, Downable>();
  private readonly outageTimers = new Set<NodeJS.Timeout>();
  /** Every fault that fired, for inspection. */
  readonly fired: { at: number; kind: string; detail: string }[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Lets the engine take a system off the network for `down` rules. */
  registerSystem(system: SystemName, target: Downable): void {
    this.downables.set(system, target);
  }

  get active(): Scenario | undefined {
    return this.scenario;
  }

  /** Switches to a scenario (validated), or to none; outages of the previous scenario end at once. */
  async activate(input: ScenarioInput | undefined): Promise<void> {
    await this.clearOutages();
    this.scenario = input ? ScenarioSchema.parse(input) : undefined;
    this.activatedAt = this.now();
    this.http = (this.scenario?.http ?? []).map((rule) => ({ rule, used: 0 }));
    this.domain = (this.scenario?.domain ?? []).map((rule) => ({ rule, used: 0 }));
    for (const { rule } of this.http) if (rule.down) this.scheduleOutage(rule);
  }

  private scheduleOutage(rule: HttpFaultRule): void {
    const target = this.downables.get(rule.system);
    if (!target) return;
    const start = setTimeout(() => {
      this.outageTimers.delete(start);
      this.record('outage', `${rule.system} down for ${rule.forMs ?? 'ever'} ms`);
      void target.setDown(true);
      if (rule.forMs !== undefined) {
        const end = setTimeout(() => {
          this.outageTimers.delete(end);
          this.record('outage-end', `${rule.system} back`);
          void target.setDown(false);
        }, rule.forMs);
        this.outageTimers.add(end);
      }
    }, rule.afterMs ?? 0);
    this.outageTimers.add(start);
  }

  private async clearOutages(): Promise<void> {
    for (const t of this.outageTimers) clearTimeout(t);
    this.outageTimers.clear();
    for (const target of this.downables.values()) await target.setDown(false);
  }

  private inWindow(rule: { afterMs?: number; forMs?: number; count?: number }, used: number): boolean {
    const elapsed = this.now() - this.activatedAt;
    if (rule.afterMs !== undefined && elapsed < rule.afterMs) return false;
    if (rule.forMs !== undefined && elapsed >= (rule.afterMs ?? 0) + rule.forMs) return false;
    if (rule.count !== undefined && used >= rule.count) return false;
    return true;
  }

  private record(kind: string, detail: string): void {
    this.fired.push({ at: this.now(), kind, detail });
    if (this.fired.length > 1000) this.fired.shift();
  }

  /** Decides what happens to one HTTP request; `undefined` lets it through untouched. */
  httpAction(system: SystemName, method: string, rawPath: string): HttpFaultAction | undefined {
    for (const active of this.http) {
      const { rule } = active;
      if (rule.down || rule.system !== system) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.path && !new RegExp(rule.path).test(rawPath)) continue;
      if (!this.inWindow(rule, active.used)) continue;
      active.used++;
      this.record('http', `${system} ${method} ${rawPath}`);
      const action: HttpFaultAction = {};
      if (rule.latencyMs) action.latencyMs = rule.latencyMs;
      if (rule.reset) action.reset = true;
      if (rule.answerLost) action.afterHandling = true;
      if (rule.status) {
        const base = defaultBody(system, rule.status);
        action.response = {
          ...base,
          ...(rule.body !== undefined ? { body: rule.body } : {}),
          headers: {
            ...base.headers,
            ...(rule.retryAfterSeconds !== undefined ? { 'retry-after': String(rule.retryAfterSeconds) } : {}),
          },
        };
      }
      return action;
    }
    return undefined;
  }

  /**
   * Consumes and returns the first domain rule of `kind` that applies in `ctx`, or `undefined`.
   * Each call that returns a rule counts as one use of it.
   */
  domainFault(kind: DomainFaultKind, ctx: DomainFaultContext = {}): DomainFaultRule | undefined {
    for (const active of this.domain) {
      const { rule } = active;
      if (rule.kind !== kind) continue;
      if (rule.env !== undefined && rule.env !== ctx.env) continue;
      if (rule.app !== undefined && rule.app !== ctx.app) continue;
      if (rule.newImageOnly && ctx.newImage !== true) continue;
      if (!this.inWindow(rule, active.used)) continue;
      active.used++;
      this.record(kind, JSON.stringify(ctx));
      return rule;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    for (const t of this.outageTimers) clearTimeout(t);
    this.outageTimers.clear();
  }
}
