/**
 * P4's worker host, run as its own process (`node --import tsx src/bench/worker-host.ts SPEC.json`): ONE process
 * with one Temporal Worker per app (a task queue per app) sharing one NativeConnection, each driving its app's
 * sandbox world. It samples its own RSS every 100 ms and its event-loop delay (perf_hooks.monitorEventLoopDelay);
 * SIGUSR2 starts the measured window afresh; on SIGTERM it stops the workers and prints its figures as one line of
 * JSON: {"rssPeakMb","eventLoopDelayP99Ms","eventLoopDelayMaxMs","workers","rssAtStartMb"}.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { WorldInfo } from '../sandbox/world/world.js';
import { defaultLayout } from '../sandbox/world/layout.js';
import { activitiesForWorld } from '../worker/activities.js';
import { createWorker } from '../worker/create-worker.js';
import { prebuiltBundle } from '../worker/workflow-source.js';

export interface WorkerHostSpec {
  readonly address: string;
  readonly namespace: string;
  readonly bundlePath: string;
  readonly apps: readonly { readonly taskQueue: string; readonly world: WorldInfo }[];
  /** Give up (exit 3) when starting the workers takes the RSS past this: the machine cannot hold that many. */
  readonly rssLimitMb: number;
}

export interface WorkerHostFigures {
  readonly rssPeakMb: number;
  /** RSS when the measured window began (every worker started, nothing running yet). */
  readonly rssAtStartMb: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  readonly workers: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorkerHostSpec;
Runtime.install({
  logger: new DefaultLogger('ERROR', (e) => process.stderr.write(`[worker] ${e.level} ${e.message}\n`)),
  // The host ends on its own terms (SIGTERM prints the figures first); SIGUSR2 resets the window.
  shutdownSignals: [],
});
const delay = monitorEventLoopDelay({ resolution: 10 });
let rssPeak = 0;
let rssAtStart = 0;
const sample = (): void => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
};
const sampler = setInterval(sample, 100);
delay.enable();
process.on('SIGUSR2', () => {
  delay.reset();
  rssPeak = 0;
  sample();
  rssAtStart = rssPeak;
});

const connection = await NativeConnection.connect({ address: spec.address });
const workers: Worker[] = [];
for (const app of spec.apps) {
  sample();
  if (rssPeak / 1024 / 1024 > spec.rssLimitMb) {
    process.stderr.write(
      `Worker host gave up: RSS ${(rssPeak / 1024 / 1024).toFixed(0)} MB after ${workers.length} of ${spec.apps.length} workers, past the limit of ${spec.rssLimitMb} MB\n`,
    );
    process.exit(3);
  }
  workers.push(
    await createWorker({
      connection,
      namespace: spec.namespace,
      taskQueue: app.taskQueue,
      activities: activitiesForWorld({ layout: defaultLayout(), info: app.world }),
      workflows: prebuiltBundle(spec.bundlePath),
      identity: `bench-host-${app.taskQueue}`,
    }),
  );
}
const running = workers.map((w) => w.run());
process.stderr.write(`Worker host polling ${workers.length} task queues\n`);

let ending = false;
process.on('SIGTERM', () => {
  if (ending) return;
  ending = true;
  sample();
  const figures: WorkerHostFigures = {
    rssPeakMb: rssPeak / 1024 / 1024,
    rssAtStartMb: rssAtStart / 1024 / 1024,
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: delay.max / 1e6,
    workers: workers.length,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  clearInterval(sampler);
  delay.disable();
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  void Promise.allSettled(running).then(async () => {
    await connection.close();
    process.exit(0);
  });
});
