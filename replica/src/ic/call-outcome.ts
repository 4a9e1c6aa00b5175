// What a call comes to: a reply with its bytes, or a reject with the interface specification's
// reject code, the IC's error code where it sets one, and its message. The scheduler resolves
// calls with it; the management canister, the programmatic API and the HTTP interface read it.
import type { ErrorCode, RejectCode } from './reject-codes.ts';

export type CallResponse =
  | { kind: 'reply'; data: Uint8Array }
  | {
      kind: 'reject';
      code: RejectCode;
      message: string;
      errorCode?: ErrorCode;
      /**
       * The canister itself rejected the call (ic0.msg_reject). Every other reject that carries
       * an IC error code reaches a calling canister as the IC's UserError text,
       * `<errorCode>: <message>` (ic/user-errors.ts rejectMessageForCanister).
       */
      ownReject?: boolean;
    };
