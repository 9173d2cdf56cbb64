// Store transactions are synchronous: a callback that returns a promise would let its awaited
// writes land after the commit, outside the transaction. Refusing it inside the transaction
// makes the mistake roll back loudly instead of committing half the work.

export function assertSynchronous(result: unknown): void {
  if ((typeof result === 'object' || typeof result === 'function') && result !== null &&
      typeof (result as { then?: unknown }).then === 'function') {
    throw new TypeError('Store.transaction(fn): fn returned a promise; transactions must be synchronous');
  }
}
