// `npm run fuzz`: the long run of the IO model fuzz (support/io-model.ts),
// on every backend in turn (or --backend NAME).
//
//   node dist/test/reliability/fuzz-main.js [--runs N] [--seconds S] [--backend NAME] [--seed N] [--path P]
//
// --seconds bounds each backend's run; --seed/--path (or TIGERIO_FUZZ_SEED
// and TIGERIO_FUZZ_PATH) replay a failure printed by a previous run.
// Exits 1 on a contract violation, printing the shrunk scenario.
import { IO } from '../../io';
import { fuzzEnvironment, fuzzIO } from './support/io-model';

function main(): number {
  const args = process.argv.slice(2);
  const options = fuzzEnvironment({ runs: 2000, seconds: 60 });
  let backends = IO.backends();
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    switch (args[i]) {
      case '--runs': options.runs = Number(value); i++; break;
      case '--seconds': options.seconds = Number(value); i++; break;
      case '--seed': options.seed = Number(value); i++; break;
      case '--path': options.path = value; i++; break;
      case '--backend': backends = [value]; i++; break;
      case '--help':
        console.log('usage: fuzz-main [--runs N] [--seconds S] [--backend NAME] [--seed N] [--path P]');
        return 0;
      default:
        console.error(`fuzz-main: unknown argument ${args[i]}`);
        return 2;
    }
  }
  let status = 0;
  for (const backend of backends) {
    const started = Date.now();
    try {
      const s = fuzzIO({ backend, ...options });
      console.log(`fuzz ${backend}: ${s.runs} scenarios, ${s.operations} operations, ${s.bytes} bytes checked in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${s.seed}): ok`);
    } catch (error) {
      console.error(`fuzz ${backend}: FAILED\n${(error as Error).message}`);
      status = 1;
    }
  }
  return status;
}

process.exitCode = main();
