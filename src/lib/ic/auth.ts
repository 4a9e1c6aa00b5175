// Sign-in through @dfinity/auth-client, the same code path on both networks: on mainnet the window
// opens Internet Identity, locally it opens the development identity provider that scripts/start.ts
// serves (scripts/dev-identity/), which speaks the same postMessage protocol and returns a real
// delegation chain. The replica checks that chain exactly as the IC does.
//
// On the page backend (the replica in this tab) there may be no provider at all: a static copy of
// the site has none. There, sign-in uses the local provider when the build names one and it
// answers, and otherwise an in-page development identity: an Ed25519 key made in and kept by this
// browser, labelled as such, whose principal the canisters cap like any other. The provider's
// delegation verifies on the page replica as on the local one: the provider signs it with its own
// P-256 user key (a self-authenticating principal, scripts/dev-identity/delegation.ts), not with a
// canister signature, so no replica's root key enters the check.
import type { Identity } from '@dfinity/agent';
import { AuthClient } from '@dfinity/auth-client';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { forgetAgents } from './agent.ts';
import type { Network } from './network.ts';

/** One hour: long enough to play with a demo, short enough that a forgotten tab does not stay signed in. */
const SESSION_NANOS = 60n * 60n * 1_000_000_000n;

let client: Promise<AuthClient> | undefined;

function authClient(): Promise<AuthClient> {
  // Idle handling off: auth-client's default reloads the page when the visitor pauses, which would
  // wipe a demo's results mid-read.
  client ??= AuthClient.create({ idleOptions: { disableIdle: true } });
  return client;
}

const DEV_IDENTITY = 'wg-page-dev-identity';
const DEV_SIGNED_IN = 'wg-page-dev-signed-in';

/** The in-page development identity (made on first use, kept in this browser). */
function devIdentity(): Ed25519KeyIdentity {
  const saved = localStorage.getItem(DEV_IDENTITY);
  if (saved) {
    try {
      return Ed25519KeyIdentity.fromJSON(saved);
    } catch {
      // unreadable: make a new one
    }
  }
  const identity = Ed25519KeyIdentity.generate();
  localStorage.setItem(DEV_IDENTITY, JSON.stringify(identity.toJSON()));
  return identity;
}

/** The last answer of each identity provider the page backend asked (by URL): did it answer? */
const providerAnswered = new Map<string, boolean>();

/** Asks the provider's origin once (an opaque no-cors GET): answering is all that matters here. */
async function providerAnswers(url: string): Promise<boolean> {
  const answered = await fetch(url, { mode: 'no-cors', signal: AbortSignal.timeout(1500) }).then(
    () => true,
    () => false,
  );
  providerAnswered.set(url, answered);
  return answered;
}

/** Whether `network` signs in with the in-page development identity (no provider to open). */
async function usesDevIdentity(network: Network): Promise<boolean> {
  if (network.name !== 'page') return false;
  if (!network.identityProvider) return true;
  return !(await providerAnswers(network.identityProvider));
}

/**
 * How signing in works on `network`, for the sentence beside the Sign in button. On the page
 * backend it follows the provider's last answer (signedInIdentity asks), so a provider that
 * `npm start` named but that does not answer is not promised.
 */
export function signInLabel(network: Network): string {
  if (network.name === 'ic') return 'Internet Identity';
  if (network.name === 'page' && (!network.identityProvider || providerAnswered.get(network.identityProvider) === false))
    return 'an in-page development identity (a key made and kept by this browser; not Internet Identity)';
  return 'the local development identity provider';
}

/** What the signed-in identity is, when it is the in-page development identity; otherwise undefined. */
export function identityNote(identity: Identity | undefined): string | undefined {
  const saved = localStorage.getItem(DEV_IDENTITY);
  if (!identity || !saved || localStorage.getItem(DEV_SIGNED_IN) !== '1') return undefined;
  return identity.getPrincipal().toText() === devIdentity().getPrincipal().toText() ? 'in-page development identity, kept in this browser' : undefined;
}

/**
 * The signed-in identity: a valid auth-client delegation stored for this site, or on the page
 * backend the in-page development identity once chosen; otherwise undefined. On the page backend
 * it also asks whether the named provider answers, for signInLabel.
 */
export async function signedInIdentity(network?: Network): Promise<Identity | undefined> {
  if (network?.name === 'page' && network.identityProvider) await providerAnswers(network.identityProvider);
  const auth = await authClient();
  if (await auth.isAuthenticated()) return auth.getIdentity();
  if (network?.name === 'page' && localStorage.getItem(DEV_SIGNED_IN) === '1') return devIdentity();
  return undefined;
}

/** Opens the network's identity provider; resolves with the delegated identity once the visitor approves. */
export async function signIn(network: Network): Promise<Identity> {
  if (await usesDevIdentity(network)) {
    localStorage.setItem(DEV_SIGNED_IN, '1');
    forgetAgents();
    return devIdentity();
  }
  const auth = await authClient();
  await new Promise<void>((resolve, reject) => {
    void auth.login({
      identityProvider: network.identityProvider,
      maxTimeToLive: SESSION_NANOS,
      windowOpenerFeatures: 'toolbar=0,location=0,menubar=0,width=520,height=640,left=120,top=80',
      onSuccess: () => resolve(),
      onError: (reason) =>
        reject(
          new Error(
            reason === 'UserInterrupt'
              ? 'Sign-in was cancelled (the window was closed before approving).'
              : `Sign-in failed: ${reason ?? 'the identity provider gave no reason'}`,
          ),
        ),
    });
  });
  forgetAgents();
  return auth.getIdentity();
}

export async function signOut(): Promise<void> {
  localStorage.removeItem(DEV_SIGNED_IN);
  const auth = await authClient();
  await auth.logout();
  forgetAgents();
}
