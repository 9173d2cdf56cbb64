// Everything a remote method may touch, handed in by the composition root.
import type { Logger } from '../../lib/log.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import type { EventLog } from './events.ts';
import type { TokenSessions } from './sessions.ts';
import type { TemplateStore } from '../templates/template-store.ts';

export interface ApiContext {
  inventory: InventoryService;
  /** Autoinstall templates and snippets, by relative name. */
  templates: TemplateStore;
  snippets: TemplateStore;
  sessions: TokenSessions;
  events: EventLog;
  log: Logger;
  /** Shared secret for Cobbler's `login("", secret)` (the local CLI); undefined disables it. */
  sharedSecret?: string;
  /** Does the real work of sync; until the boot services exist it validates the inventory. */
  sync: (log: (line: string) => void, opts: { systems?: string[] }) => Promise<void>;
  /** The rackforge version string; the Cobbler API version reported is fixed at 3.3.7. */
  version: string;
}
