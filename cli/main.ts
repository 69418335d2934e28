import { Command } from 'commander';

/**
 * Each command's module, loaded only when that command runs: start-up is paid on every run, and
 * the Elasticsearch client, BullMQ and the HTML page cost more to load than analyze spends on a
 * typical input.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  analyze: async () => (await import('./analyze.ts')).analyzeCommand,
  decode: async () => (await import('./decode.ts')).decodeCommand,
  selftest: async () => (await import('./selftest.ts')).selftestCommand,
  health: async () => (await import('./health.ts')).healthCommands,
  setup: async () => (await import('./elasticsearch.ts')).setupCommand,
  ingest: async () => (await import('./ingest.ts')).ingestCommand,
  correlate: async () => (await import('./correlate.ts')).correlateCommand,
  watch: async () => (await import('./watch.ts')).watchCommand,
};
/** Commands registered by another command's module. */
const ALIASES: Record<string, string> = { explain: 'analyze', collect: 'health' };

/** The modules a command line needs: its command's, analyze's for a bare list of inputs (the default), all for help. */
function needed(argv: string[]): string[] {
  const first = argv[2];
  if (first === undefined || first === 'help' || first === '-h' || first === '--help' || first === '-V' || first === '--version') return Object.keys(COMMANDS);
  const name = ALIASES[first] ?? first;
  // analyze is the default command: its own module must be there for `exit137 file.log`; a
  // command named first is the one commander runs (loading analyze's too cost decode ~50 ms)
  return COMMANDS[name] ? [name] : ['analyze'];
}

const program = new Command();
program
  .name('exit137')
  .description('Explains why a container died with exit code 137, or hung while dying, from the node’s own records.')
  .version('0.1.0')
  .showHelpAfterError();
for (const name of Object.keys(COMMANDS)) if (needed(process.argv).includes(name)) (await COMMANDS[name]!())(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`exit137: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
