import { MemoryStore } from '../../../src/server/store/memory.js';
import { runStoreContract } from '../../helpers/store-contract.js';

runStoreContract('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});
