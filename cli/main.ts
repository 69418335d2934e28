import { Command } from 'commander';
import { analyzeCommand } from './analyze.ts';
import { correlateCommand } from './correlate.ts';
import { decodeCommand } from './decode.ts';
import { setupCommand } from './elasticsearch.ts';
import { healthCommands } from './health.ts';
import { ingestCommand } from './ingest.ts';
import { selftestCommand } from './selftest.ts';
import { watchCommand } from './watch.ts';

const program = new Command();
program
  .name('exit137')
  .description('Explains why a container died with exit code 137, or hung while dying, from the node’s own records.')
  .version('0.1.0')
  .showHelpAfterError();
analyzeCommand(program);
decodeCommand(program);
selftestCommand(program);
healthCommands(program);
setupCommand(program);
ingestCommand(program);
correlateCommand(program);
watchCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`exit137: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
