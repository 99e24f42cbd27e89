// Prints the traces of the echo scenario under network faults for a fixed
// list of seeds, one line: test/windows/run.sh runs it in Linux's node and
// in Windows' node.exe and requires the two lines to be equal, which checks
// that a seed replays the same run on both OSes (issue 15's determinism).
import { echoScenario } from './scenarios';

const SEEDS = [1, 2, 3, 42, 1000, 123456, 2 ** 31 + 5];
process.stdout.write(`${SEEDS.map((seed) => `${seed}:${echoScenario(seed).trace}`).join(' ')}\n`);
