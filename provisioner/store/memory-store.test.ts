import { MemoryStore } from './memory-store.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
