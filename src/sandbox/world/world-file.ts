/**
 * The running sandbox announces itself in the state folder (`sandbox.json`, readable only by its owner: it holds
 * the sandbox's credentials), so that workers started separately (`shepherd worker`) can use it.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WorldInfo } from './world.js';

export function worldFilePath(stateDir: string): string {
  return join(stateDir, 'sandbox.json');
}

export function writeWorldFile(stateDir: string, info: WorldInfo): string {
  mkdirSync(stateDir, { recursive: true });
  const file = worldFilePath(stateDir);
  writeFileSync(file, JSON.stringify({ pid: process.pid, info }), { mode: 0o600 });
  return file;
}

export function removeWorldFile(stateDir: string): void {
  rmSync(worldFilePath(stateDir), { force: true });
}

/** The world announced in `stateDir`, if its process still runs. */
export function readWorldFile(stateDir: string): WorldInfo | undefined {
  try {
    const { pid, info } = JSON.parse(readFileSync(worldFilePath(stateDir), 'utf8')) as { pid: number; info: WorldInfo };
    process.kill(pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
