// `npm run fuzz` (second part): the server fuzz for longer, on every backend.
//   node dist/test/reliability/server-fuzz-main.js [--seconds S] [--seed N] [--cases N] [--backend NAME]
import { IO } from '../../io';
import { startServer } from '../server/support';
import { FUZZ_SERVER_CONFIGURATIONS, fuzzServer } from './support/server-fuzz';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let seconds = 60;
  let seed = Number(process.env.TIGERIO_FUZZ_SEED ?? (Date.now() & 0x7fffffff));
  let cases = 1e9;
  // A child server process reached over real TCP: not 'simulation' (see server-fuzz.test.ts).
  let backends = IO.backends().filter((name) => name !== 'simulation');
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1];
    if (args[i] === '--seconds') seconds = Number(value);
    else if (args[i] === '--seed') seed = Number(value);
    else if (args[i] === '--cases') cases = Number(value);
    else if (args[i] === '--backend') backends = [value];
    else {
      console.error(`server-fuzz-main: unknown argument ${args[i]}`);
      return 2;
    }
  }
  let status = 0;
  for (const backend of backends) for (const { name, flags } of FUZZ_SERVER_CONFIGURATIONS) {
    const server = await startServer([...flags, '--backend', backend]);
    try {
      const s = await fuzzServer({ port: server.port, seed, cases, seconds });
      if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}): ${server.stderr()}`);
      console.log(`server fuzz ${backend}${name}: ${s.cases} cases, ${s.responseBytes} response bytes (seed ${seed}): ok`);
    } catch (error) {
      console.error(`server fuzz ${backend}${name}: FAILED\n${(error as Error).message}`);
      status = 1;
    } finally {
      await server.stop('SIGTERM').catch(() => server.child.kill('SIGKILL'));
    }
  }
  return status;
}

void main().then((code) => (process.exitCode = code));
