// Prints the traces of the echo scenario under network faults (and again
// with a kernel that loses cancels: the give-up path), and of the
// mixed-sockets scenario (UDP, a Unix socket, sendFile), for a fixed list of
// seeds, one line: test/windows/run.sh runs it in Linux's node and
// in Windows' node.exe and requires the two lines to be equal, which checks
// that a seed replays the same run on both OSes (issue 15's determinism).
import { echoScenario, LOST_CANCEL_FAULTS, mixedSocketsScenario } from './scenarios';

const SEEDS = [1, 2, 3, 42, 1000, 123456, 2 ** 31 + 5];
const echo = SEEDS.map((seed) => `${seed}:${echoScenario(seed).trace}`);
const mixed = SEEDS.map((seed) => `u${seed}:${mixedSocketsScenario(seed).trace}`);
const lostCancels = SEEDS.map((seed) => `c${seed}:${echoScenario(seed, LOST_CANCEL_FAULTS).trace}`);
process.stdout.write(`${[...echo, ...mixed, ...lostCancels].join(' ')}\n`);
