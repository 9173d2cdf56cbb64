#!/usr/bin/env node
// The package's bin: load the TypeScript sources through tsx, then hand over to the CLI root.
import { register } from 'tsx/esm/api';

// `rackforge system list | head` closes stdout early: that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
}
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
