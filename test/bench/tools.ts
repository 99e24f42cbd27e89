// The bench runner's modes that run no benchmark but work on recorded runs:
//   --compare A.json B.json   print what changed from run A to run B
//   --chart A.json            (re)draw A's chart beside it, as A.svg
// run.ts hands its arguments here first; null means "not one of these".
import { chartPath, writeChart } from './chart';
import { compareFiles } from './compare';

export const TOOLS_HELP =
  '       npm run bench -- --compare A.json B.json   what changed between two recorded runs\n' +
  '       npm run bench -- --chart A.json            draw A.json\'s chart as A.svg beside it\n';

/** Runs a tool mode and returns the exit status, or null when argv asks for a benchmark run. */
export function benchTool(argv: readonly string[]): number | null {
  const mode = argv[0];
  if (mode !== '--compare' && mode !== '--chart') return null;
  const files = argv.slice(1);
  const wanted = mode === '--compare' ? 2 : 1;
  if (files.length !== wanted || files.some((file) => file.startsWith('--'))) {
    process.stderr.write(`bench: ${mode} takes ${wanted === 2 ? 'two results files' : 'one results file'}\n${TOOLS_HELP}`);
    return 2;
  }
  try {
    if (mode === '--compare') {
      process.stdout.write(compareFiles(files[0], files[1]));
    } else {
      writeChart(files[0]);
      process.stdout.write(`bench: chart written to ${chartPath(files[0])}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 1;
  }
}
