// `npm run fuzz`: the sample server under the simulation for many seeds.
//   node dist/test/simulation/server-main.js [--seed FIRST] [--seeds COUNT] [--lost-cancels]
// --lost-cancels adds a kernel that loses cancels (scenarios.ts LOST_CANCEL_FAULTS). Prints a summary; on a failure, the seed, what went wrong and the replay
// command, and exits 1.
import { LOST_CANCEL_FAULTS, NETWORK_FAULTS } from './scenarios';
import { replayCommand, serverScenario } from './server-scenario';

function main(): number {
  const args = process.argv.slice(2);
  let first = 0;
  let count = 500;
  let lostCancels = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--seed') first = Number(args[++i]);
    else if (args[i] === '--seeds') count = Number(args[++i]);
    else if (args[i] === '--lost-cancels') lostCancels = true;
    else {
      console.error(`server-main: unknown argument ${args[i]}`);
      return 2;
    }
  }
  let requests = 0;
  let answered = 0;
  let endedEarly = 0;
  for (let seed = first; seed < first + count; seed++) {
    const report = serverScenario(seed, lostCancels ? LOST_CANCEL_FAULTS : NETWORK_FAULTS);
    requests += report.requests;
    answered += report.answered;
    endedEarly += report.endedEarly;
    if (report.violations.length > 0) {
      console.error(`simulated server failed at seed ${seed} (trace ${report.trace}):\n  ${report.violations.join('\n  ')}`);
      console.error(`replay: ${replayCommand(seed, lostCancels)}`);
      return 1;
    }
  }
  const kernel = lostCancels ? ' (cancels lost)' : '';
  console.log(`simulated server${kernel}: ${count} seeds from ${first}, ${requests} requests, ${answered} answered, ${endedEarly} connections ended early by faults; no violation`);
  return 0;
}

process.exitCode = main();
