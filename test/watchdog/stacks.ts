// Native stacks of a blocked process, for the watchdog's report: what the
// JS stack cannot show when the main thread is stuck in native code.
// - Linux: eu-stack (elfutils) first: it prints every thread in about a
//   second; gdb reads node's debug information first, which takes several.
// - Windows' node.exe under Wine: Linux's tools stop at the boundary of
//   Wine's syscall dispatcher; winedbg walks the Windows side (node.exe,
//   the addon, kernelbase), so it goes first there.
// - Windows itself: no tool; the test's name is all the watchdog gives.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

interface StackTool {
  command: string;
  args: (pid: number) => string[];
  /** The part of the tool's output that is the stacks, or '' if none. */
  stacks: (output: string) => string;
}

/** The tool printed frames: '#N ' lines (eu-stack, gdb). */
function framesOf(output: string): string {
  return /^#\d+\s/m.test(output) ? output.trimEnd() : '';
}

/** winedbg's 'bt all' blocks of node.exe's threads (it walks every process of the Wine prefix). */
function nodeThreadsOf(output: string): string {
  const blocks = output.split(/\n(?=Backtracing for thread )/).filter((block) => /^Backtracing for thread .*node\.exe\):/.test(block));
  return blocks.join('\n').trimEnd();
}

const euStack: StackTool = { command: 'eu-stack', args: (pid) => ['-p', String(pid)], stacks: framesOf };
const gdb: StackTool = {
  command: 'gdb',
  args: (pid) => ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt'],
  stacks: framesOf,
};
const winedbg: StackTool = { command: 'winedbg', args: () => ['--command', 'bt all'], stacks: nodeThreadsOf };

/** Longest a stack tool may take before it is given up (winedbg under load takes most of a minute). */
const toolTimeoutMs = 90_000;

/**
 * Why this process may not attach to a process that is not its descendant
 * with ptrace (what eu-stack and gdb do), or null if it may. Yama's
 * ptrace_scope 1 (Ubuntu's default) allows only descendants unless root.
 */
export function ptraceRefusal(): string | null {
  let scope: string;
  try {
    scope = fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim();
  } catch {
    return null; // no Yama: classic ptrace rules, same user suffices
  }
  const root = process.getuid?.() === 0;
  if (scope === '0' || (root && (scope === '1' || scope === '2'))) return null;
  return `kernel.yama.ptrace_scope is ${scope}${root ? '' : ' and this is not root'}: ptrace may not attach to the blocked process`;
}

/** The native stacks of every thread of `pid` (a Windows node.exe if `underWine`), or why there are none. */
export function nativeStacks(pid: number, underWine: boolean): { tool: string | null; text: string } {
  if (process.platform !== 'linux') {
    return { tool: null, text: `no native stack: the watchdog knows no stack tool on ${process.platform}` };
  }
  // The tools are not built with the sanitizers that test:asan preloads.
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  // winedbg asks wineserver, which may read its own processes' threads.
  const refusal = ptraceRefusal();
  const candidates = underWine ? [winedbg, euStack] : [euStack, gdb];
  const failures: string[] = [];
  for (const tool of refusal === null ? candidates : candidates.filter((candidate) => candidate === winedbg)) {
    const result = spawnSync(tool.command, tool.args(pid), { env, encoding: 'utf8', timeout: toolTimeoutMs });
    if (result.error !== undefined) {
      failures.push(`${tool.command}: ${result.error.message}`);
      continue;
    }
    // eu-stack exits 1 when a thread could not be unwound to its end, with
    // the frames it found on stdout: those are still the answer.
    const stacks = tool.stacks(result.stdout);
    if (stacks !== '') return { tool: tool.command, text: stacks };
    failures.push(`${tool.command}: exit ${result.status}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  if (refusal !== null) failures.push(refusal);
  return { tool: null, text: `no native stack: ${failures.join('; ')}` };
}
