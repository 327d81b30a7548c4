/** A dry-run plan as text for a person: a heading per app and step, the diffs indented, the gates marked. */
import type { DryRunPlan, PlannedGate, PlannedStep } from './plan.js';

const GATE_MARK: Readonly<Record<PlannedGate['effect'], string>> = { wait: '⏸', refuse: '✗', 'go-on': '·' };

function stepHeading(step: PlannedStep): string {
  const move = `${step.from ?? 'nothing'} → ${step.to ?? 'nothing'}`;
  switch (step.action) {
    case 'bump':
      return `version bump: ${step.from === null ? 'none (no version file), a commit that starts a build' : move}`;
    case 'deliver':
      return `${step.env}: ${move}`;
    case 'promote':
      return `${step.env} (from ${step.source ?? '?'}): ${move}`;
    case 'nothing-to-do':
      return `${step.env} (from ${step.source ?? '?'}): nothing to do, already runs ${step.to ?? '?'}`;
  }
}

function stepLines(step: PlannedStep): string[] {
  const lines = [`  ${stepHeading(step)}`];
  if (step.branch !== undefined || step.into !== undefined)
    lines.push(
      `    ${step.action === 'bump' ? 'commit on' : 'merge request'} ${[step.branch, step.into].filter(Boolean).join(' → ')}`,
    );
  if (step.note !== undefined) lines.push(`    ${step.note}`);
  for (const file of step.files) {
    lines.push(`    ${file.path}:`);
    for (const line of file.diff.replace(/\n$/, '').split('\n')) lines.push(`      ${line}`);
  }
  if (step.files.length === 0 && step.action !== 'nothing-to-do' && step.to !== null && step.action !== 'bump')
    lines.push('    no file changes: every declaration already names the image');
  for (const gate of step.gates) lines.push(`    ${GATE_MARK[gate.effect]} ${gate.kind}: ${gate.message}`);
  return lines;
}

/** The plans of one command, one block per app. */
export function renderPlans(plans: readonly DryRunPlan[]): string[] {
  const lines: string[] = [];
  for (const plan of plans) {
    const held = plan.steps.flatMap((s) => s.gates).filter((g) => g.effect !== 'go-on');
    lines.push(
      `${plan.app}: ${plan.command} (dry run, nothing changed)${held.length > 0 ? ` — ${held.length} gate${held.length === 1 ? '' : 's'} would hold or stop it` : ''}`,
    );
    for (const step of plan.steps) lines.push(...stepLines(step));
  }
  return lines;
}
