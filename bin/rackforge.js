#!/usr/bin/env node
// The package's bin: load the TypeScript sources through tsx, then hand over to the CLI root.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
