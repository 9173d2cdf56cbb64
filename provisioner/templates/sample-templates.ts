// The sample autoinstall templates and snippets shipped in profiles/, copied into the
// template stores when absent, so a fresh provisioner can install Debian, Ubuntu and Red Hat
// family machines. Existing templates (an operator's edits) are never overwritten.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TemplateStore } from './template-store.ts';

export const SAMPLE_PROFILES_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

export interface SeedResult { templates: string[]; snippets: string[] }

export function seedSampleTemplates(
  stores: { templates: TemplateStore; snippets: TemplateStore }, profilesDir: string = SAMPLE_PROFILES_DIR,
): SeedResult {
  return {
    templates: seedDir(join(profilesDir, 'templates'), stores.templates),
    snippets: seedDir(join(profilesDir, 'snippets'), stores.snippets),
  };
}

function seedDir(dir: string, store: TemplateStore): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile()).sort();
  } catch {
    return [];
  }
  const present = new Set(store.list());
  const written: string[] = [];
  for (const n of names) {
    if (present.has(n)) continue;
    store.write(n, readFileSync(join(dir, n), 'utf8'));
    written.push(n);
  }
  return written;
}
