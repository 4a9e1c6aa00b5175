// Adapts the execution engine's scheduler (replica/src/scheduler) to EnginePort.

import { principalToText } from '../ic/principal.ts';
import { fromHex, toHex } from '../ic/bytes.ts';
import type { CanisterCertifiedInfo } from '../certification/state-tree.ts';
import { canisterRange } from '../management/canister-ids.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { CallOutcome, EnginePort, IngressCall, QueryCall } from './engine-port.ts';

const METADATA_SECTION = /^icp:(public|private) (.+)$/;

function outcomeOf(response: CallResponse): CallOutcome {
  return response.kind === 'reply'
    ? { status: 'replied', reply: response.data }
    : { status: 'rejected', rejectCode: response.code, rejectMessage: response.message, errorCode: response.errorCode ?? '' };
}

export function schedulerEngine(scheduler: Scheduler): EnginePort {
  const [lo, hi] = canisterRange();
  const ranges: Array<[Uint8Array, Uint8Array]> = [[lo.toUint8Array(), hi.toUint8Array()]];
  return {
    time: () => scheduler.clock.nowNanos(),
    canisterRanges: () => ranges,
    listCanisters: () => [...scheduler.canisters.values()].map((c) => c.id),
    canisterInfo(id: Uint8Array): CanisterCertifiedInfo | undefined {
      const canister = scheduler.canister(id);
      if (!canister) return undefined;
      const module = canister.module;
      const metadata: CanisterCertifiedInfo['metadata'] = [];
      for (const [name, content] of module?.info.customSections ?? []) {
        const match = METADATA_SECTION.exec(name);
        if (match) metadata.push({ name: match[2], isPublic: match[1] === 'public', content });
      }
      return {
        certifiedData: canister.certifiedData,
        moduleHash: module?.hash,
        controllers: canister.settings.controllers.map((p) => p.toUint8Array()),
        metadata,
      };
    },
    acceptCall(call: IngressCall) {
      const rejection = scheduler.inspectIngress(principalToText(call.canisterId), call.methodName, call.arg, call.sender);
      return rejection && outcomeOf(rejection);
    },
    async submitCall(call: IngressCall) {
      // Keyed by request id: a call in flight at a restart completes through onIngressCompleted.
      return outcomeOf(await scheduler.submitIngress(principalToText(call.canisterId), call.methodName, call.arg, call.sender, toHex(call.requestId)));
    },
    onRestoredCallCompleted(handler) {
      scheduler.onIngressCompleted = (key, response) => {
        if (key !== undefined && /^([0-9a-f]{2})+$/.test(key)) handler(fromHex(key), outcomeOf(response));
      };
    },
    async queryCall(call: QueryCall) {
      return outcomeOf(scheduler.query(principalToText(call.canisterId), call.methodName, call.arg, call.sender));
    },
    setDataCertificateProvider(provider) {
      scheduler.dataCertificateProvider = provider;
    },
  };
}
