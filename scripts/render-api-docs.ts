// npm run docs: rewrite docs/api.md from the method table.
import { writeFileSync } from 'node:fs';
import { buildMethodTable } from '../provisioner/cobbler/methods.ts';
import { renderApiDocs } from '../provisioner/cobbler/api-docs.ts';

writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiDocs(buildMethodTable()));
