// One remote call in, one value or fault out. Decoding and encoding are the codec's; the
// decisions (which method, may this caller, which arguments) are here, in order.
import { RackforgeError } from '../../lib/errors.ts';
import type { MethodCall, XmlRpcValue, Fault } from '../protocol/xmlrpc.ts';
import type { ApiContext } from './api-context.ts';
import { PythonTypeError, toFault } from './faults.ts';
import { buildMethodTable, encodedRecord, newEncodedRecordCache, type Call, type MethodSpec } from './methods.ts';
import { ITEM_TYPES } from '../inventory/types.ts';
import { stripNone } from './python-values.ts';
import { bindArgs } from './signature.ts';

export type Outcome = { value: XmlRpcValue } | { fault: Fault };

export interface Dispatcher {
  call(call: MethodCall): Promise<Outcome>;
  /**
   * Encodes every stored record ahead of the first listing, a slice per event-loop turn so
   * that calls keep being answered meanwhile. Resolves when done or when the signal aborts.
   */
  warm(signal: AbortSignal): Promise<number>;
  methods(): string[];
  table: ReadonlyMap<string, MethodSpec>;
}

export function createDispatcher(ctx: ApiContext, opts: { readsNeedAuth?: () => boolean } = {}): Dispatcher {
  const table = buildMethodTable();
  const encoded = newEncodedRecordCache();
  const readsNeedAuth = opts.readsNeedAuth ?? (() => false);

  async function invoke(name: string, params: unknown[]): Promise<XmlRpcValue> {
    if (name.startsWith('_') || name === 'background_load_items') {
      throw new RackforgeError('API_FORBIDDEN_METHOD', 'forbidden method');
    }
    const spec = table.get(name);
    if (!spec) throw new RackforgeError('API_UNKNOWN_METHOD', `unknown remote method '${name}'`);
    const args = bindArgs(spec.signature, params);
    const tokenIndex = spec.signature.params.findIndex((p) => p.name === 'token');
    const token = tokenIndex >= 0 ? args[tokenIndex] : undefined;
    let user = ctx.sessions.validate(token);
    // Clients put tokens where Cobbler ignores them (get_systems(token), find_system(c, token)):
    // any live token among the arguments identifies the caller.
    if (!user) for (const a of params) { user = ctx.sessions.validate(a); if (user) break; }
    const needsToken = spec.access === 'write' || (spec.access === 'read' && readsNeedAuth());
    if (needsToken && !user) throw new RackforgeError('API_INVALID_TOKEN', 'invalid token');
    const c: Call = { ctx, encoded, privileged: user !== undefined, ...(user ? { user } : {}) };
    return stripNone(await spec.handler(c, args));
  }

  async function multicall(params: unknown[]): Promise<XmlRpcValue> {
    const calls = params[0];
    if (params.length !== 1 || !Array.isArray(calls)) {
      throw new RackforgeError('API_ARGUMENTS', 'system.multicall takes one array of {methodName, params} structs');
    }
    const results: XmlRpcValue[] = [];
    for (const entry of calls) {
      try {
        const e = entry as { methodName?: unknown; params?: unknown };
        if (typeof e !== 'object' || e === null || typeof e.methodName !== 'string' || !Array.isArray(e.params ?? [])) {
          throw new RackforgeError('API_ARGUMENTS', 'each multicall entry needs methodName (string) and params (array)');
        }
        if (e.methodName === 'system.multicall') throw new RackforgeError('API_FORBIDDEN_METHOD', 'recursive system.multicall is forbidden');
        results.push([await route(e.methodName, (e.params ?? []) as unknown[])]);
      } catch (err) {
        const f = toFault(err);
        results.push({ faultCode: f.faultCode, faultString: f.faultString });
      }
    }
    return results;
  }

  async function route(name: string, params: unknown[]): Promise<XmlRpcValue> {
    if (name === 'system.multicall') return multicall(params);
    if (name === 'system.listMethods') return [...table.keys(), 'system.listMethods', 'system.methodHelp', 'system.multicall'].sort();
    if (name === 'system.methodHelp') {
      const name = typeof params[0] === 'string' ? params[0] : '';
      const spec = table.get(name);
      if (!spec) throw new RackforgeError('API_UNKNOWN_METHOD', typeof params[0] === 'string' ? `unknown remote method '${name}'` : 'system.methodHelp takes a method name (string)');
      return `${spec.signature.method}(${spec.signature.params.map((p) => p.name).join(', ')}): ${spec.help}`;
    }
    return invoke(name, params);
  }

  async function warm(signal: AbortSignal): Promise<number> {
    let count = 0;
    for (const type of ITEM_TYPES) {
      const records = ctx.inventory.list(type);
      for (let i = 0; i < records.length; i += 100) {
        if (signal.aborted) return count;
        for (const r of records.slice(i, i + 100)) { encodedRecord(encoded, { ctx, privileged: false }, type, r); count++; }
        await new Promise((r) => setImmediate(r));
      }
    }
    return count;
  }

  return {
    table,
    warm,
    methods: () => [...table.keys()].sort(),
    async call(call: MethodCall): Promise<Outcome> {
      try {
        return { value: await route(call.methodName, call.params) };
      } catch (err) {
        if (!(err instanceof RackforgeError) && !(err instanceof PythonTypeError)) {
          ctx.log.error('remote method failed unexpectedly', { method: call.methodName, error: err instanceof Error ? err.stack ?? err.message : String(err) });
        }
        return { fault: toFault(err) };
      }
    },
  };
}
