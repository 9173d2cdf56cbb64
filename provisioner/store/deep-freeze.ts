// Records leave a store deeply frozen: readers share them without copying (10,000 systems
// per listing), and any attempt to change one in place fails loudly instead of silently
// diverging from what is stored.
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
