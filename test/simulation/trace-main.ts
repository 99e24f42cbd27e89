// Prints the traces of the echo scenario under network faults, and of the
// issue 14 scenario (UDP, a Unix socket, sendFile), for a fixed list of
// seeds, one line: test/windows/run.sh runs it in Linux's node and
// in Windows' node.exe and requires the two lines to be equal, which checks
// that a seed replays the same run on both OSes (issue 15's determinism).
import { echoScenario, issue14Scenario } from './scenarios';

const SEEDS = [1, 2, 3, 42, 1000, 123456, 2 ** 31 + 5];
const echo = SEEDS.map((seed) => `${seed}:${echoScenario(seed).trace}`);
const issue14 = SEEDS.map((seed) => `u${seed}:${issue14Scenario(seed).trace}`);
process.stdout.write(`${[...echo, ...issue14].join(' ')}\n`);
