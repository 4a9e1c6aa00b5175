// Candid actors over the replica's call API, shaped like PicJS's: one async function per
// service method (queries and composite queries as query calls, the rest as update calls),
// plus setIdentity / setPrincipal to change the sender.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { CandidError } from './errors.ts';

/** A standard Candid IDL factory, as @icp-sdk/bindgen and dfx generate them. */
export type IdlFactory = (args: { IDL: typeof IDL }) => IDL.ServiceClass;

export interface ActorMethods {
  /** Sends later calls as this identity's principal (e.g. an Ed25519KeyIdentity). */
  setIdentity(identity: { getPrincipal(): Principal }): void;
  setPrincipal(principal: Principal): void;
}

export type Actor<T = Record<string, (...args: any[]) => Promise<any>>> = T & ActorMethods;

export interface ActorTransport {
  updateCall(options: { canisterId: Principal; method: string; arg: Uint8Array; sender: Principal }): Promise<Uint8Array>;
  queryCall(options: { canisterId: Principal; method: string; arg: Uint8Array; sender: Principal }): Promise<Uint8Array>;
}

export function createActor<T>(transport: ActorTransport, idlFactory: IdlFactory, canisterId: Principal, sender: Principal = Principal.anonymous()): Actor<T> {
  const service = idlFactory({ IDL });
  let current = sender;
  const actor: Record<string, unknown> = {
    setIdentity: (identity: { getPrincipal(): Principal }) => (current = identity.getPrincipal()),
    setPrincipal: (principal: Principal) => (current = principal),
  };
  for (const [name, func] of service._fields) {
    const isQuery = func.annotations.includes('query') || func.annotations.includes('composite_query');
    actor[name] = async (...args: unknown[]) => {
      let arg: Uint8Array;
      try {
        arg = new Uint8Array(IDL.encode(func.argTypes, args));
      } catch (e) {
        throw new CandidError(`Cannot encode the arguments of ${canisterId.toText()}.${name}: ${(e as Error).message}`, { cause: e });
      }
      const call = { canisterId, method: name, arg, sender: current };
      const reply = isQuery ? await transport.queryCall(call) : await transport.updateCall(call);
      let values: unknown[];
      try {
        values = IDL.decode(func.retTypes, reply);
      } catch (e) {
        throw new CandidError(`Cannot decode the reply of ${canisterId.toText()}.${name}: ${(e as Error).message}`, { cause: e });
      }
      return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
    };
  }
  return actor as Actor<T>;
}
