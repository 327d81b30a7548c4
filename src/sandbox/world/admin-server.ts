/**
 * The world's admin endpoint, separate from the vendor APIs and never subject to faults:
 *   GET    /state       counts and lists across systems, for tests ("one bump, one MR, one merge") and people
 *   GET    /scenarios   the scenario catalogue
 *   GET    /scenario    the active scenario (null when none)
 *   PUT    /scenario    switch scenario: {"name":"stage-degraded"} or a whole scenario object
 *   DELETE /scenario    no faults
 *   GET    /permissions what the cluster token may not do: {"denied":[{verb, group, resource, namespace?}]}
 *   PUT    /permissions replace the denied permissions (same body; `[]` allows everything again)
 *   GET    /requests    requests the vendor servers received, per system and endpoint (`GET /api/v4/projects/:id`,
 *                       `WATCH /apis/…`), with totals, and the webhook deliveries sent (`deliveries`)
 *   DELETE /requests    resets the counts
 *   GET    /timeline    the world's changes in order: [{at, system, kind, subject, detail?}], `at` the wall clock
 *   DELETE /timeline    clears it
 *   GET    /jenkins/notifications  the Notification plugin endpoints: {"endpoints":[{url, event?, jobs?}], "attempts"}
 *   PUT    /jenkins/notifications  replace them: {"endpoints":[{"url","event"?,"jobs"?,"timeoutMs"?,"retries"?}]}
 *
 * Admin requests are never counted.
 */
import { createPlainOrTlsServer, schemeOf, type ServerTls } from '../core/http.js';
import type { AddressInfo } from 'node:net';
import { z, ZodError } from 'zod';
import { NOTIFICATION_EVENTS } from '../jenkins/notifications.js';
import { SCENARIOS } from './scenarios.js';
import { worldState, type WorldParts } from './state.js';
import type { World } from './world.js';

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

const NotificationsBodySchema = z.object({
  endpoints: z.array(
    z
      .object({
        url: z.string(),
        event: z.enum(NOTIFICATION_EVENTS).optional(),
        jobs: z.array(z.string()).optional(),
        timeoutMs: z.number().int().positive().optional(),
        retries: z.number().int().min(0).max(10).optional(),
      })
      .strict(),
  ),
});

const PermissionsBodySchema = z.object({
  denied: z.array(
    z.object({ verb: z.string(), group: z.string(), resource: z.string(), namespace: z.string().optional() }).strict(),
  ),
});

export async function startAdminServer(
  world: WorldParts & Pick<World, 'setScenario' | 'kubePermissions' | 'requests' | 'timeline' | 'notifications'>,
  opts: { readonly tls?: ServerTls } = {},
): Promise<AdminServer> {
  const server = createPlainOrTlsServer(opts.tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const path = (req.url ?? '/').split('?')[0];
      const method = req.method ?? 'GET';
      void (async () => {
        try {
          if (method === 'GET' && path === '/state') return send(200, worldState(world));
          if (method === 'GET' && path === '/scenarios') return send(200, SCENARIOS);
          if (method === 'GET' && path === '/scenario') return send(200, world.faults.active ?? null);
          if (method === 'GET' && path === '/permissions') return send(200, { denied: world.kubePermissions.denied });
          if (method === 'GET' && path === '/requests') return send(200, world.requests.snapshot());
          if (method === 'DELETE' && path === '/requests') {
            world.requests.reset();
            return send(200, world.requests.snapshot());
          }
          if (method === 'GET' && path === '/timeline') return send(200, world.timeline.entries());
          if (method === 'DELETE' && path === '/timeline') {
            world.timeline.clear();
            return send(200, []);
          }
          if (method === 'GET' && path === '/jenkins/notifications')
            return send(200, {
              endpoints: world.notifications.endpoints,
              attempts: world.notifications.attempts(),
            });
          if (method === 'PUT' && path === '/jenkins/notifications') {
            let body: unknown;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return send(400, { error: 'body must be JSON: {"endpoints":[{"url","event","jobs"}]}' });
            }
            const parsed = NotificationsBodySchema.safeParse(body);
            if (!parsed.success) return send(400, { error: 'invalid notifications', issues: parsed.error.issues });
            world.notifications.set(parsed.data.endpoints);
            return send(200, { endpoints: world.notifications.endpoints });
          }
          if (method === 'PUT' && path === '/permissions') {
            let body: unknown;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return send(400, { error: 'body must be JSON: {"denied":[{"verb","group","resource","namespace"}]}' });
            }
            const parsed = PermissionsBodySchema.safeParse(body);
            if (!parsed.success) return send(400, { error: 'invalid permissions', issues: parsed.error.issues });
            world.kubePermissions.setDenied(parsed.data.denied);
            return send(200, { denied: world.kubePermissions.denied });
          }
          if (method === 'DELETE' && path === '/scenario') {
            await world.setScenario(undefined);
            return send(200, null);
          }
          if (method === 'PUT' && path === '/scenario') {
            let body: unknown;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return send(400, { error: 'body must be JSON: {"name":"<scenario>"} or a scenario object' });
            }
            const input = body as { name?: unknown; description?: unknown };
            await world.setScenario(
              typeof input.name === 'string' && input.description === undefined ? input.name : (body as never),
            );
            return send(200, world.faults.active ?? null);
          }
          return send(404, {
            error: `no route ${method} ${path}; try GET /state, GET /scenarios, PUT /scenario, PUT /permissions, GET /requests, GET /timeline, PUT /jenkins/notifications`,
          });
        } catch (err) {
          if (err instanceof ZodError) return send(400, { error: 'invalid scenario', issues: err.issues });
          return send(400, { error: (err as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${schemeOf(opts.tls)}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
