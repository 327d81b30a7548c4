/** Activities of the harness fixture workflow. */
import { activityInfo, heartbeat } from '@temporalio/activity';

export async function greetActivity(name: string): Promise<string> {
  return `hello, ${name}`;
}

/** Counts to `to`, heartbeating each number, resuming from the last heartbeat on a retry. */
export async function countActivity(to: number): Promise<number[]> {
  const seen: number[] = [];
  const resumeFrom = (activityInfo().heartbeatDetails as number | undefined) ?? 0;
  for (let i = resumeFrom + 1; i <= to; i++) {
    heartbeat(i);
    seen.push(i);
  }
  return seen;
}
