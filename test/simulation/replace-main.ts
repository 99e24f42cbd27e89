// `npm run fuzz`: the durable file replacement under crashes for many seeds.
//   node dist/test/simulation/replace-main.js [--seed FIRST] [--seeds COUNT]
// Fails (exit 1) if a seed with the directory synced loses the rename, or
// if no seed without the sync loses it (the model would then test nothing).
import { replaceSeeds } from './replace-scenario';

function main(): number {
  const args = process.argv.slice(2);
  let first = 0;
  let count = 1000;
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--seed') first = Number(args[i + 1]);
    else if (args[i] === '--seeds') count = Number(args[i + 1]);
    else {
      console.error(`replace-main: unknown argument ${args[i]}`);
      return 2;
    }
  }
  const synced = replaceSeeds(first, count, true);
  const unsynced = replaceSeeds(first, count, false);
  const show = (seen: Map<string, number>): string => [...seen.entries()].map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`durable replace: ${count} seeds from ${first}; with the directory sync: ${show(synced)}; without: ${show(unsynced)}`);
  if (synced.size !== 1 || synced.get('new') !== count) {
    console.error('durable replace: a seed with the directory synced lost the new contents');
    return 1;
  }
  if ((unsynced.get('old') ?? 0) === 0) {
    console.error('durable replace: no seed without the directory sync lost the rename: the crash model is not exercised');
    return 1;
  }
  return 0;
}

process.exitCode = main();
