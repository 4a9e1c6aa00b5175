// Turning what goes wrong into sentences a visitor can act on. The demos show these texts as is.
import { AgentError, ErrorKindEnum, HttpErrorCode, HttpFetchErrorCode } from '@dfinity/agent';
import { NotDeployedError } from './canisters.ts';
import { describeNetwork, type Network } from './network.ts';

/** The `Error` variant every demo canister returns in `#err` (canisters/lib/Errors.mo). */
export type CanisterError =
  | { notAuthorized: string }
  | { invalidArgument: string }
  | { notFound: string }
  | { limitReached: string }
  | { rateLimited: { retryAfterSeconds: bigint; message: string } }
  | { unavailable: string };

/** A canister answered, but with its own `#err`: the call worked, the request was refused. */
export class CanisterRefusal extends Error {
  readonly kind: string;
  readonly retryAfterSeconds?: number;
  constructor(method: string, error: CanisterError) {
    const [kind, detail] = Object.entries(error)[0] as [string, string | { message: string; retryAfterSeconds: bigint }];
    const text = typeof detail === 'string' ? detail : `${detail.message} (try again in ${detail.retryAfterSeconds} s)`;
    super(`${method} refused: ${text}`);
    this.name = 'CanisterRefusal';
    this.kind = kind;
    if (typeof detail !== 'string') this.retryAfterSeconds = Number(detail.retryAfterSeconds);
  }
}

/** Unwraps a Candid `{ ok } | { err }` result, throwing a CanisterRefusal for `err`. */
export function unwrap<T>(method: string, result: { ok: T } | { err: CanisterError }): T {
  if ('err' in result) throw new CanisterRefusal(method, result.err);
  return result.ok;
}

export type Failure = {
  /** unreachable: nothing answered (network down, replica stopped); the rest did answer. */
  kind: 'unreachable' | 'not-deployed' | 'refused' | 'rejected' | 'other';
  message: string;
};

function isFetchFailure(error: unknown): boolean {
  if (error instanceof AgentError) {
    if (error.hasCode(HttpFetchErrorCode)) return true;
    return error.kind === ErrorKindEnum.Transport && !error.hasCode(HttpErrorCode);
  }
  // fetch() itself rejects with a TypeError when the host does not answer.
  return error instanceof TypeError && /fetch|network|load failed/i.test(error.message);
}

/** Classifies an error thrown while talking to `network` and says what a person can do about it. */
export function describeFailure(error: unknown, network: Network): Failure {
  if (error instanceof NotDeployedError) return { kind: 'not-deployed', message: error.message };
  if (error instanceof CanisterRefusal) return { kind: 'refused', message: error.message };
  if (isFetchFailure(error)) {
    return {
      kind: 'unreachable',
      message:
        network.name === 'local'
          ? `The ${describeNetwork(network)} is not answering. Is \`npm start\` still running? Start it again, then retry.`
          : `The Internet Computer (${network.host}) cannot be reached from this browser. Check your connection, then retry.`,
    };
  }
  if (error instanceof AgentError && error.kind === ErrorKindEnum.Reject) {
    return { kind: 'rejected', message: `The canister rejected the call: ${firstLine(error.message)}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'other', message: firstLine(message) };
}

function firstLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(0, 3).join(' ');
}
