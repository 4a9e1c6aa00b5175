// The page replica's second Web Worker (started by worker.ts): it signs state roots with the
// subnet's BLS key, so a certificate's signature (about half of an update's time in the engine)
// is computed while the replica's worker captures and writes the state that certificate reveals.
// The same signStateRoot as in-thread signing, so the same bytes.
import { signStateRoot, subnetKeys, type SubnetKeys } from '@scaling-wg/replica/certification';
import type { FromSigner, ToSigner } from './protocol.ts';

let keys: SubnetKeys | undefined;
const post = (message: FromSigner) => (self as unknown as Worker).postMessage(message);

self.addEventListener('message', (event: MessageEvent<ToSigner>) => {
  const message = event.data;
  if (message.type === 'keys') {
    keys = subnetKeys(message.rootSecretKey, message.nodeSecretKey);
    return;
  }
  try {
    if (!keys) throw new Error('the signer has no keys yet');
    post({ id: message.id, signature: signStateRoot(keys, message.rootHash) });
  } catch (error) {
    post({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
