// Autoinstall templates and snippets, addressed by relative names as Cobbler's API takes
// them ("sample.ks", "subdir/node.seed"). A name can never leave its root: no "..", no
// absolute paths, no NUL, no symlinks followed out of the directory.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, lstatSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { RackforgeError } from '../../lib/errors.ts';

export interface TemplateStore {
  list(): string[];
  read(name: string): string | undefined;
  write(name: string, text: string): void;
  remove(name: string): boolean;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*(\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$/;
export const MAX_TEMPLATE_BYTES = 1024 * 1024;

/** The one place a template name is judged: relative, plain segments, no traversal. */
export function checkTemplateName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || !NAME_RE.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new RackforgeError('ITEM_INVALID_FIELD', `invalid template name ${JSON.stringify(name)}: use a relative path of letters, digits, '.', '_', '-', '+' and '/'`, { field: 'file_path' });
  }
  return name;
}

function checkText(text: unknown): string {
  if (typeof text !== 'string') throw new RackforgeError('API_ARGUMENTS', 'template data must be a string');
  if (Buffer.byteLength(text) > MAX_TEMPLATE_BYTES) throw new RackforgeError('ITEM_INVALID_FIELD', `template exceeds ${MAX_TEMPLATE_BYTES} bytes`);
  return text;
}

export class MemoryTemplateStore implements TemplateStore {
  private readonly files = new Map<string, string>();
  list(): string[] { return [...this.files.keys()].sort(); }
  read(name: string): string | undefined { return this.files.get(checkTemplateName(name)); }
  write(name: string, text: string): void { this.files.set(checkTemplateName(name), checkText(text)); }
  remove(name: string): boolean { return this.files.delete(checkTemplateName(name)); }
}

export class DirTemplateStore implements TemplateStore {
  private names: Set<string>;
  constructor(private readonly root: string) {
    mkdirSync(root, { recursive: true });
    this.names = new Set(this.scan(''));
  }

  list(): string[] { return [...this.names].sort(); }

  read(name: string): string | undefined {
    const path = this.pathOf(checkTemplateName(name));
    if (!this.names.has(name)) return undefined;
    return readFileSync(path, 'utf8');
  }

  write(name: string, text: string): void {
    const path = this.pathOf(checkTemplateName(name));
    mkdirSync(dirname(path), { recursive: true });
    this.assertInside(dirname(path));
    // Write then rename: a crash leaves the old template or the new one, never half of one.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, checkText(text), { mode: 0o644 });
    renameSync(tmp, path);
    this.names.add(name);
  }

  remove(name: string): boolean {
    checkTemplateName(name);
    if (!this.names.has(name)) return false;
    rmSync(this.pathOf(name), { force: true });
    this.names.delete(name);
    return true;
  }

  private pathOf(name: string): string {
    return join(this.root, ...name.split('/'));
  }

  private assertInside(dir: string): void {
    const real = realpathSync(dir);
    const rel = relative(realpathSync(this.root), real);
    if (rel.startsWith('..') || rel.startsWith(sep)) throw new RackforgeError('ITEM_INVALID_FIELD', 'template path leaves the templates directory');
  }

  /** Regular files only; symlinks are not followed (they could point anywhere). */
  private scan(prefix: string): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(join(this.root, prefix), { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) out.push(...this.scan(rel));
      else if (entry.isFile() && NAME_RE.test(rel) && !lstatSync(join(this.root, rel)).isSymbolicLink()) out.push(rel);
    }
    return out;
  }
}
