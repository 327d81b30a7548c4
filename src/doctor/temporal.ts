/**
 * Temporal's checks: the server answers, the namespace exists, Shepherd's search attributes are registered as
 * Keyword, and (not in the quick part) a worker polls the task queue for workflow and activity tasks, as the Docker
 * health check asks it (deploy/healthcheck.mjs), but for any worker rather than this container's.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../temporal/common/search-attributes.js';
import { connectClient } from '../temporal/connection.js';
import { searchAttributeCommands } from '../temporal/search-attributes.js';
import { fail, pass, reasonOf, skipped, type CheckResult } from './check.js';
import type { Installation } from './installation.js';

/** A long poll lasts at most ~70 s; a poller not seen for longer than this has stopped. */
const POLLER_FRESH_MS = 3 * 60 * 1000;
const GRPC_NOT_FOUND = 5;
const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const { TaskQueueType } = proto.temporal.api.enums.v1;

export async function checkTemporal(inst: Installation, opts: { quick: boolean }): Promise<CheckResult[]> {
  const target = inst.temporal;
  const reach = target ? `server at ${target.address} answers` : 'a server to connect to';
  if (!target) {
    return [
      fail(
        'temporal',
        reach,
        inst.temporalProblem ?? 'no Temporal address is configured',
        'Start `npx shepherd dev-server` in another terminal, or set TEMPORAL_ADDRESS',
      ),
    ];
  }
  let client: Client;
  try {
    client = await connectClient(target);
  } catch (err) {
    return [
      fail(
        'temporal',
        reach,
        `it does not answer (${reasonOf(err)})`,
        'Check TEMPORAL_ADDRESS (and TEMPORAL_TLS_*, TEMPORAL_API_KEY), or start `npx shepherd dev-server`',
      ),
    ];
  }
  try {
    const results = [pass('temporal', reach)];
    const ns = target.namespace;
    try {
      await client.workflowService.describeNamespace({ namespace: ns });
      results.push(pass('temporal', `namespace ${ns} exists`));
    } catch (err) {
      const missing = (err as { code?: number }).code === GRPC_NOT_FOUND;
      results.push(
        fail(
          'temporal',
          `namespace ${ns} exists`,
          missing ? 'the server has no such namespace' : `describing it failed (${reasonOf(err)})`,
          `Create it (\`temporal operator namespace create --namespace ${ns}\`) or set TEMPORAL_NAMESPACE`,
        ),
      );
      results.push(skipped('temporal', "Shepherd's search attributes are registered", 'the namespace is missing'));
      if (!opts.quick) results.push(skipped('temporal', pollerCheck(inst), 'the namespace is missing'));
      return results;
    }
    results.push(await checkSearchAttributes(client, ns));
    if (!opts.quick) results.push(await checkPollers(client, inst));
    return results;
  } finally {
    await client.connection.close();
  }
}

async function checkSearchAttributes(client: Client, namespace: string): Promise<CheckResult> {
  const what = "Shepherd's search attributes are registered";
  const wanted = SEARCH_ATTRIBUTES.map((k) => k.name);
  try {
    const res = await client.connection.operatorService.listSearchAttributes({ namespace });
    const custom = res.customAttributes ?? {};
    const missing = wanted.filter((name) => custom[name] === undefined);
    const wrongType = wanted.filter((name) => custom[name] !== undefined && custom[name] !== KEYWORD);
    if (missing.length === 0 && wrongType.length === 0) return pass('temporal', what, wanted.join(', '));
    const problems = [
      ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
      ...(wrongType.length > 0 ? [`not of type Keyword: ${wrongType.join(', ')}`] : []),
    ];
    return fail(
      'temporal',
      what,
      problems.join('; '),
      missing.length > 0
        ? `Start \`npx shepherd worker\` once with rights to add them, or have an admin run ${searchAttributeCommands(
            namespace,
            missing,
          )
            .map((command) => `\`${command}\``)
            .join(', ')}`
        : `A search attribute's type cannot change: an admin removes it (\`temporal operator search-attribute remove --namespace ${namespace} --name ${wrongType[0]!}\`) and the worker adds it again, or use another namespace`,
    );
  } catch (err) {
    return fail(
      'temporal',
      what,
      `listing them failed (${reasonOf(err)})`,
      'Check that the configured identity may use the operator API',
    );
  }
}

function pollerCheck(inst: Installation): string {
  return `a worker polls task queue "${inst.taskQueue}"`;
}

async function checkPollers(client: Client, inst: Installation): Promise<CheckResult> {
  const what = pollerCheck(inst);
  const idle: string[] = [];
  let identities = new Set<string>();
  try {
    for (const [kind, taskQueueType] of [
      ['workflow', TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
      ['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
    ] as const) {
      const res = await client.workflowService.describeTaskQueue({
        namespace: inst.temporal!.namespace,
        taskQueue: { name: inst.taskQueue },
        taskQueueType,
      });
      const fresh = (res.pollers ?? []).filter((p) => {
        const t = p.lastAccessTime;
        const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
        return Date.now() - ms < POLLER_FRESH_MS;
      });
      if (fresh.length === 0) idle.push(kind);
      identities = new Set([...identities, ...fresh.map((p) => p.identity ?? '?')]);
    }
  } catch (err) {
    return fail('temporal', what, `describing the task queue failed (${reasonOf(err)})`, 'Check TEMPORAL_NAMESPACE');
  }
  if (idle.length === 0) return pass('temporal', what, [...identities].join(', '));
  return fail(
    'temporal',
    what,
    `no worker polled it for ${idle.join(' or ')} tasks in the last 3 minutes, so runs would wait`,
    `Start one with \`npx shepherd worker\`${inst.taskQueue !== 'shepherd' ? ` (TEMPORAL_TASK_QUEUE=${inst.taskQueue})` : ''}`,
  );
}
