import { MemoryRegistryStore } from './memory-registry-store.ts';
import { describeRegistryStoreContract } from './registry-store-contract.ts';

describeRegistryStoreContract('MemoryRegistryStore', async () => ({ store: new MemoryRegistryStore(), cleanup: async () => {} }));
