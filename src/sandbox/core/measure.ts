/**
 * Measuring the world from outside: how many requests each simulated system received per endpoint, how many webhook
 * deliveries went out, and the timeline of changes in the world with their wall-clock instants. A benchmark reads
 * both through the admin endpoint to compute the load a workflow puts on the systems and how long it took to notice
 * each change (world change → the workflow's next step).
 */
import type { SystemName } from './faults.js';

/** Counts per endpoint (`METHOD /route/:template`) of one system, with their total. */
export interface EndpointCounts {
  readonly total: number;
  readonly endpoints: Record<string, number>;
}

/** Delivery attempts per event of one system, with their total. */
export interface EventCounts {
  readonly total: number;
  readonly events: Record<string, number>;
}

export interface RequestCountsSnapshot {
  readonly since: string;
  readonly total: number;
  readonly systems: Record<SystemName, EndpointCounts>;
  /**
   * Outgoing webhook deliveries per system and event (`Push Hook`, `Merge Request Hook`; `QUEUED` … `FINALIZED`),
   * every attempt counted (a resend or a retry counts again).
   */
  readonly deliveries: { readonly total: number } & Record<'gitlab' | 'jenkins', EventCounts>;
}

const SYSTEMS: readonly SystemName[] = ['gitlab', 'jenkins', 'kubernetes'];

/** Request counts of the vendor servers; the admin endpoint is never counted. */
export class RequestCounter {
  private incoming = new Map<SystemName, Map<string, number>>();
  private outgoing = new Map<'gitlab' | 'jenkins', Map<string, number>>();
  private since = Date.now();

  /** One request received by `system` on `endpoint` (e.g. `GET /api/v4/projects/:id`). */
  request(system: SystemName, endpoint: string): void {
    bump(this.incoming, system, endpoint);
  }

  /** One webhook delivery attempt sent by `system`, named by its event (`Merge Request Hook`, `COMPLETED`). */
  delivery(system: 'gitlab' | 'jenkins', event: string): void {
    bump(this.outgoing, system, event);
  }

  reset(): void {
    this.incoming = new Map();
    this.outgoing = new Map();
    this.since = Date.now();
  }

  snapshot(): RequestCountsSnapshot {
    const systems = Object.fromEntries(SYSTEMS.map((s) => [s, counts(this.incoming.get(s))])) as Record<
      SystemName,
      EndpointCounts
    >;
    const events = (system: 'gitlab' | 'jenkins'): EventCounts => {
      const c = counts(this.outgoing.get(system));
      return { total: c.total, events: c.endpoints };
    };
    const gitlab = events('gitlab');
    const jenkins = events('jenkins');
    return {
      since: new Date(this.since).toISOString(),
      total: SYSTEMS.reduce((sum, s) => sum + systems[s].total, 0),
      systems,
      deliveries: { total: gitlab.total + jenkins.total, gitlab, jenkins },
    };
  }
}

function bump<K>(map: Map<K, Map<string, number>>, key: K, name: string): void {
  let inner = map.get(key);
  if (!inner) map.set(key, (inner = new Map()));
  inner.set(name, (inner.get(name) ?? 0) + 1);
}

function counts(inner: Map<string, number> | undefined): EndpointCounts {
  const entries = [...(inner ?? new Map<string, number>()).entries()].sort(([a], [b]) => a.localeCompare(b));
  return { total: entries.reduce((sum, [, n]) => sum + n, 0), endpoints: Object.fromEntries(entries) };
}

export const TIMELINE_KINDS = [
  'build-started',
  'build-finished',
  'queue-left',
  'mr-opened',
  'mr-updated',
  'mr-merged',
  'mr-closed',
  'mr-reopened',
  'branch-pushed',
  'branch-deleted',
  'sync-finished',
  'rollout-complete',
  'health-changed',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** One change in the world. `at` is the real wall clock with milliseconds, whatever the world's time scale. */
export interface TimelineEntry {
  readonly at: string;
  readonly system: 'gitlab' | 'jenkins' | 'kubernetes' | 'argocd';
  readonly kind: TimelineKind;
  /** What changed: `p2c/example-app!3`, `p2c/deployments@dev`, `example-app/main#7`, `argocd/example-app-dev`. */
  readonly subject: string;
  /** Details of the change (result, sha, health, image…). */
  readonly detail?: Record<string, unknown>;
}

/** The world's changes in the order they happened; bounded, the oldest entries fall off. */
export class Timeline {
  private items: TimelineEntry[] = [];

  constructor(private readonly capacity = 10_000) {}

  add(system: TimelineEntry['system'], kind: TimelineKind, subject: string, detail?: Record<string, unknown>): void {
    this.items.push({
      at: new Date().toISOString(),
      system,
      kind,
      subject,
      ...(detail !== undefined ? { detail } : {}),
    });
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  entries(): readonly TimelineEntry[] {
    return [...this.items];
  }

  clear(): void {
    this.items = [];
  }
}
