// Cobbler's event/task log: background calls return an event id, clients poll its state.
// Kept in memory like Cobbler's, with the same id format and the 7-day expiry.
import type { Clock, Random } from '../../lib/clock.ts';

export type EventState = 'running' | 'complete' | 'failed' | 'notification';
const EXPIRY_S = 7 * 24 * 3600;

export type TaskWork = (log: (line: string) => void) => Promise<void> | void;

interface EventEntry { statetime: number; name: string; state: EventState; readBy: string[]; log: string[] }

export class EventLog {
  private readonly events = new Map<string, EventEntry>();
  constructor(private readonly clock: Clock, private readonly random: Random) {}

  /** `YYYY-MM-DD_HHMMSS_<name>_<uuid4 hex>` as Cobbler's CobblerEvent ids. */
  start(name: string): string {
    this.sweep();
    const d = new Date(this.clock.now() * 1000);
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
    const id = `${stamp}_${name.replace(/\s+/g, '_')}_${this.random.bytes(16).toString('hex')}`;
    this.events.set(id, { statetime: this.clock.now(), name, state: 'running', readBy: [], log: [] });
    return id;
  }

  log(id: string, line: string): void {
    this.events.get(id)?.log.push(line);
  }

  finish(id: string, ok: boolean): void {
    const e = this.events.get(id);
    if (!e) return;
    e.log.push(ok ? '### TASK COMPLETE ###' : '### TASK FAILED ###');
    e.state = ok ? 'complete' : 'failed';
    e.statetime = this.clock.now();
  }

  /** Runs work as a task now: its lines go to the task log, its outcome to the state. */
  async run(name: string, work: TaskWork): Promise<{ id: string; ok: boolean; error?: unknown }> {
    const id = this.start(name);
    return this.execute(id, work);
  }

  /** Starts work as a background task and returns its id at once (Cobbler's background_*). */
  background(name: string, work: TaskWork): string {
    const id = this.start(name);
    setImmediate(() => { void this.execute(id, work); });
    return id;
  }

  private async execute(id: string, work: TaskWork): Promise<{ id: string; ok: boolean; error?: unknown }> {
    try {
      await work((line) => this.log(id, line));
      this.finish(id, true);
      return { id, ok: true };
    } catch (e) {
      this.log(id, `error: ${e instanceof Error ? e.message : String(e)}`);
      this.finish(id, false);
      return { id, ok: false, error: e };
    }
  }

  status(id: string): [number, string, EventState, string[]] | undefined {
    const e = this.events.get(id);
    return e && [e.statetime, e.name, e.state, [...e.readBy]];
  }

  logText(id: string): string | undefined {
    const e = this.events.get(id);
    return e && e.log.join('\n') + '\n';
  }

  /** All events; a non-empty user marks them read by that user (Cobbler's get_events). */
  list(forUser: string): Record<string, [number, string, EventState, string[]]> {
    this.sweep();
    const out: Record<string, [number, string, EventState, string[]]> = {};
    for (const [id, e] of this.events) {
      if (forUser && !e.readBy.includes(forUser)) e.readBy.push(forUser);
      out[id] = [e.statetime, e.name, e.state, [...e.readBy]];
    }
    return out;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, e] of this.events) if (now - e.statetime > EXPIRY_S) this.events.delete(id);
  }
}
