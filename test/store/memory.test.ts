import { createMemoryStore } from '../../src/store/memory/store.js';
import { describeStoreContract } from './store.contract.js';

describeStoreContract('memory', async (options = {}) => {
  const store = createMemoryStore(options);
  return {
    store,
    readClicks: async (merchantId) => store.recordedClicks(merchantId),
    cleanup: () => store.close(),
  };
});
