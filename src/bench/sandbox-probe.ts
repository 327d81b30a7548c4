/**
 * What the bench reads from a sandbox world's admin endpoint: request counts per system (`GET|DELETE /requests`) and
 * the world's changes with wall-clock instants (`GET|DELETE /timeline`), as issue 14's contract names them. A world
 * built before those endpoints answers 404: the probe then says "unavailable" rather than guessing, and the bench
 * reports the figures that depend on it as unavailable. The shapes are read leniently (counts per system, or per
 * system and endpoint; a list of changes, bare or under `events`/`timeline`), since the probe only needs totals
 * per system and (kind, instant) pairs.
 */

export const SYSTEMS = ['gitlab', 'jenkins', 'kubernetes'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** Calls per system (Argo CD's Applications count under kubernetes: they are Kubernetes API calls). */
export type CallCounts = Record<SystemName, number> & {
  readonly total: number;
  /** The sandbox's own answer, per endpoint, kept for the JSON report. */
  readonly raw?: unknown;
};

export interface WorldChange {
  /** build-started, build-finished, queue-left, mr-opened, mr-merged, sync-finished, rollout-complete, … */
  readonly kind: string;
  /** Epoch milliseconds. */
  readonly at: number;
  /** Whatever else the world said about it (job, build number, MR iid, app, env…). */
  readonly detail: Readonly<Record<string, unknown>>;
}

export type Probe<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

async function adminGet(adminUrl: string, path: string): Promise<Probe<unknown>> {
  let res: Response;
  try {
    res = await fetch(`${adminUrl}${path}`);
  } catch (err) {
    return { ok: false, reason: `GET ${path} failed: ${(err as Error).message}` };
  }
  if (res.status === 404)
    return { ok: false, reason: `the sandbox has no GET ${path} (issue 14 point 4 not in this build)` };
  if (!res.ok) return { ok: false, reason: `GET ${path} answered ${res.status}` };
  return { ok: true, value: await res.json() };
}

/** Clears a counter before a measured run; false when the endpoint is missing. */
export async function adminReset(adminUrl: string, path: '/requests' | '/timeline'): Promise<boolean> {
  try {
    const res = await fetch(`${adminUrl}${path}`, { method: 'DELETE' });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function sumCounts(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + sumCounts(v), 0);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.total === 'number') return o.total;
    if (typeof o.count === 'number') return o.count;
    return Object.values(o).reduce<number>((n, v) => n + sumCounts(v), 0);
  }
  return 0;
}

const systemOf = (name: string): SystemName | undefined => {
  const n = name.toLowerCase();
  if (n.includes('gitlab')) return 'gitlab';
  if (n.includes('jenkins')) return 'jenkins';
  if (n.includes('kube') || n.includes('argo') || n === 'k8s') return 'kubernetes';
  return undefined;
};

/** Totals per system from a `/requests` body; undefined when no system could be recognised. */
export function parseCallCounts(body: unknown): CallCounts | undefined {
  const counts: Record<SystemName, number> = { gitlab: 0, jenkins: 0, kubernetes: 0 };
  let recognised = false;
  const root =
    body && typeof body === 'object' && !Array.isArray(body) && 'systems' in body
      ? (body as { systems: unknown }).systems
      : body;
  if (Array.isArray(root)) {
    for (const entry of root) {
      if (!entry || typeof entry !== 'object') continue;
      const e = entry as Record<string, unknown>;
      const system = typeof e.system === 'string' ? systemOf(e.system) : undefined;
      if (!system) continue;
      recognised = true;
      counts[system] += typeof e.count === 'number' ? e.count : 1;
    }
  } else if (root && typeof root === 'object') {
    for (const [name, value] of Object.entries(root as Record<string, unknown>)) {
      const system = systemOf(name);
      if (!system) continue;
      recognised = true;
      counts[system] += sumCounts(value);
    }
  }
  if (!recognised) return undefined;
  return { ...counts, total: counts.gitlab + counts.jenkins + counts.kubernetes };
}

const instantOf = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
};

/** The changes of a `/timeline` body, oldest first; undefined when it is not a list of changes. */
export function parseTimeline(body: unknown): WorldChange[] | undefined {
  const list = Array.isArray(body)
    ? body
    : body && typeof body === 'object'
      ? ((body as Record<string, unknown>).events ?? (body as Record<string, unknown>).timeline)
      : undefined;
  if (!Array.isArray(list)) return undefined;
  const changes: WorldChange[] = [];
  for (const entry of list) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const kind = [e.kind, e.type, e.event, e.change].find((k): k is string => typeof k === 'string');
    const at = [e.at, e.time, e.instant, e.timestamp].map(instantOf).find((t) => t !== undefined);
    if (kind === undefined || at === undefined) continue;
    changes.push({ kind, at, detail: e });
  }
  return changes.sort((a, b) => a.at - b.at);
}

export async function readCallCounts(adminUrl: string): Promise<Probe<CallCounts>> {
  const got = await adminGet(adminUrl, '/requests');
  if (!got.ok) return got;
  const counts = parseCallCounts(got.value);
  return counts
    ? { ok: true, value: { ...counts, raw: got.value } }
    : { ok: false, reason: 'GET /requests named no known system' };
}

export async function readTimeline(adminUrl: string): Promise<Probe<WorldChange[]>> {
  const got = await adminGet(adminUrl, '/timeline');
  if (!got.ok) return got;
  const changes = parseTimeline(got.value);
  return changes ? { ok: true, value: changes } : { ok: false, reason: 'GET /timeline was not a list of changes' };
}
