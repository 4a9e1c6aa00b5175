// Which paths a read_state may ask for (https-interface.md#http-read-state): time, subnet and
// api_boundary_nodes always; canister_ranges at the subnet endpoint; a request's status only by
// its sender at its effective canister; a canister's module_hash, controllers and metadata only at
// that canister's endpoint (private metadata only for controllers). Refusals name the rule.

import { equalBytes, toHex, utf8 } from '../ic/bytes.ts';
import { principalToText } from '../ic/principal.ts';
import { STATE_LABELS, type CanisterCertifiedInfo } from '../certification/state-tree.ts';
import { badRequest, forbidden, notFound } from './errors.ts';
import type { IngressRegistry } from './ingress.ts';

export interface ReadStateContext {
  scope: string;
  effectiveId: Uint8Array;
  sender: Uint8Array;
  /** The canisters the sender's delegations allow; undefined: unrestricted. */
  targets?: Uint8Array[];
  registry: IngressRegistry;
  canisterInfo: (canisterId: Uint8Array) => CanisterCertifiedInfo | undefined;
}

/** Which paths a read_state may ask for (https-interface.md#http-read-state). */
export function checkReadStatePaths(paths: Uint8Array[][], context: ReadStateContext): void {
  const { scope, effectiveId, sender, targets, registry, canisterInfo } = context;
  const L = STATE_LABELS;
  let requestId: Uint8Array | undefined;
  for (const path of paths) {
    const [head, second, third, fourth] = path;
    const shown = path.map((l) => (l.every((b) => b >= 0x20 && b < 0x7f) ? new TextDecoder().decode(l) : `0x${toHex(l)}`)).join('/');
    if (!head) throw badRequest('an empty path cannot be requested');
    if (equalBytes(head, L.time) || equalBytes(head, L.subnet) || equalBytes(head, utf8('api_boundary_nodes'))) continue;
    if (equalBytes(head, L.canisterRanges)) {
      if (scope !== 'subnet') throw forbidden(`/${shown} can only be read at /api/v3/subnet/<subnet id>/read_state`);
      continue;
    }
    if (equalBytes(head, L.requestStatus)) {
      if (!second) throw forbidden('/request_status needs a request id: /request_status/<request id>');
      if (requestId && !equalBytes(requestId, second)) throw forbidden('all request_status paths of one read_state must name the same request id');
      requestId = second;
      const known = registry.get(second);
      if (known) {
        if (!equalBytes(known.sender, sender)) {
          throw forbidden(`request 0x${toHex(second)} was sent by ${principalToText(known.sender)}, so ${principalToText(sender)} cannot read its status`);
        }
        // Both endpoints: the status is read where the call was sent (abstract behaviour,
        // may_read_path_for_canister / may_read_path_for_subnet), so a call sent to a canister
        // is not readable at the subnet endpoint, nor at another canister's.
        if (!equalBytes(known.effectiveCanisterId, effectiveId)) {
          throw forbidden(
            `request 0x${toHex(second)} was sent to ${principalToText(known.effectiveCanisterId)}; read its status at that id's read_state endpoint`,
          );
        }
        if (targets && !targets.some((t) => equalBytes(t, known.canisterId))) {
          throw forbidden(
            `the sender's delegation does not allow ${principalToText(known.canisterId)}, the canister request 0x${toHex(second)} was sent to, so it cannot read its status`,
          );
        }
      } else if (scope === 'subnet') {
        // Only calls sent to this subnet's own endpoint have statuses readable here.
        throw forbidden(
          `request 0x${toHex(second)} was not sent to /api/v4/subnet/${principalToText(effectiveId)}/call; read request statuses at the read_state endpoint of the canister the call was sent to`,
        );
      }
      continue;
    }
    if (equalBytes(head, L.canister)) {
      if (scope !== 'canister' || !second || !equalBytes(second, effectiveId)) {
        throw forbidden(`/${shown} can only be read at /api/v2|v3/canister/<that canister>/read_state`);
      }
      const isInfo = path.length === 3 && (equalBytes(third, L.moduleHash) || equalBytes(third, L.controllers));
      const isMetadata = path.length === 4 && equalBytes(third, L.metadata);
      if (!isInfo && !isMetadata) {
        throw forbidden(`/${shown} cannot be requested: canister paths are module_hash, controllers and metadata/<name>`);
      }
      if (isMetadata) {
        const info = canisterInfo(second);
        const name = new TextDecoder().decode(fourth);
        const section = info?.metadata.find((m) => m.name === name);
        if (section && !section.isPublic && !info!.controllers.some((c) => equalBytes(c, sender))) {
          throw forbidden(`metadata section "${name}" of ${principalToText(second)} is private; only its controllers can read it`);
        }
      }
      continue;
    }
    throw notFound(`/${shown} is not a path of the state tree (time, subnet, canister_ranges, request_status, canister, api_boundary_nodes)`);
  }
}
