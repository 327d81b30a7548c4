// The Docker health check of a Shepherd worker container (Dockerfile HEALTHCHECK): healthy while a worker of
// THIS container polls the configured task queue for both workflow and activity tasks. It asks the Temporal
// frontend (DescribeTaskQueue) with the worker's own configuration (same env, TLS, API key), and matches pollers
// by the SDK's default worker identity `<pid>@<hostname>`, the hostname being the container's: each replica of
// `docker compose up --scale shepherd-worker=N` checks itself. A worker started with `--identity` is not matched.
// Exit 0 healthy, 1 unhealthy (Docker's convention); one line on stdout says why.
import { hostname } from 'node:os';
import proto from '@temporalio/proto';
import { loadConfig } from '../dist/src/config/load.js';
import { connectClient, targetFrom } from '../dist/src/temporal/connection.js';

/** A poll is at most ~70 s long; a poller not seen for longer than this has stopped. */
const FRESH_MS = 3 * 60 * 1000;

async function check() {
  const config = loadConfig();
  if (!config.temporal.address) return 'TEMPORAL_ADDRESS is not set';
  const client = await connectClient(targetFrom(config.temporal, config.temporal.address));
  try {
    const suffix = `@${hostname()}`;
    const { TaskQueueType } = proto.temporal.api.enums.v1;
    for (const [kind, taskQueueType] of [
      ['workflow', TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
      ['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
    ]) {
      const res = await client.workflowService.describeTaskQueue({
        namespace: config.temporal.namespace,
        taskQueue: { name: config.temporal.taskQueue },
        taskQueueType,
      });
      const mine = (res.pollers ?? []).filter((p) => (p.identity ?? '').endsWith(suffix));
      const fresh = mine.some((p) => {
        const t = p.lastAccessTime;
        const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
        return Date.now() - ms < FRESH_MS;
      });
      if (!fresh) return `no ${kind} poller of this container (${suffix}) on task queue "${config.temporal.taskQueue}"`;
    }
    return undefined;
  } finally {
    await client.connection.close();
  }
}

try {
  const problem = await check();
  process.stdout.write(problem ? `unhealthy: ${problem}\n` : 'healthy\n');
  process.exitCode = problem ? 1 : 0;
} catch (err) {
  process.stdout.write(`unhealthy: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  process.exitCode = 1;
}
