// Data certificates for queries made through the programmatic API (interface spec, "Certified
// data": a non-replicated query can read, with ic0.data_certificate_copy, a certificate whose
// tree holds /canister/<id>/certified_data and /time). The HTTP interface hands queries the
// certificate of its latest certified state; a replica used without it signs a small state of
// its own: the subnet's key and ranges, the time, and the queried canister's certified data.
// A signature costs ~11 ms, so a certificate is kept until the canister's certified data
// changes or it grows older than DATA_CERTIFICATE_REUSE_NS of replica time.
import { certificateFor, signState } from './certificate.ts';
import type { SubnetKeys } from './keys.ts';
import { EMPTY_STATE, STATE_LABELS, withCanister, withSubnet, withTime } from './state-tree.ts';
import { equalBytes, toHex } from '../ic/bytes.ts';

/**
 * How long a certificate is handed out again: one minute of replica time. Agents accept a
 * certificate up to five minutes old (agent-js `maxAgeInMinutes` default), so a client verifying
 * what the canister returns never sees one it would refuse.
 */
export const DATA_CERTIFICATE_REUSE_NS = 60_000_000_000n;

export interface DataCertificateSource {
  keys: SubnetKeys;
  now(): bigint;
  canisterRanges(): Array<[Uint8Array, Uint8Array]>;
}

export class DataCertificates {
  readonly #source: DataCertificateSource;
  readonly #cache = new Map<string, { certifiedData: Uint8Array; timeNs: bigint; certificate: Uint8Array }>();

  constructor(source: DataCertificateSource) {
    this.#source = source;
  }

  /** The certificate for `canisterId` holding `certifiedData`, signed now or reused while fresh. */
  certificateFor(canisterId: Uint8Array, certifiedData: Uint8Array): Uint8Array {
    const key = toHex(canisterId);
    const now = this.#source.now();
    const cached = this.#cache.get(key);
    if (cached && equalBytes(cached.certifiedData, certifiedData) && now >= cached.timeNs && now - cached.timeNs <= DATA_CERTIFICATE_REUSE_NS) {
      return cached.certificate;
    }
    const { keys } = this.#source;
    let tree = withSubnet(EMPTY_STATE, {
      subnetId: keys.subnetId,
      publicKeyDer: keys.rootKeyDer,
      canisterRanges: this.#source.canisterRanges(),
      nodes: [{ nodeId: keys.nodeId, publicKeyDer: keys.nodePublicKeyDer }],
    });
    tree = withCanister(tree, canisterId, { certifiedData, controllers: [], metadata: [] });
    tree = withTime(tree, now);
    const signed = signState(keys, tree, 0);
    const certificate = certificateFor(signed, [[STATE_LABELS.canister, canisterId, STATE_LABELS.certifiedData]]);
    if (this.#cache.size > 1000) this.#cache.clear();
    this.#cache.set(key, { certifiedData: certifiedData.slice(), timeNs: now, certificate });
    return certificate;
  }
}
