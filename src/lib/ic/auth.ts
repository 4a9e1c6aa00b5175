// Sign-in through @dfinity/auth-client, the same code path on both networks: on mainnet the window
// opens Internet Identity, locally it opens the development identity provider that scripts/start.ts
// serves (scripts/dev-identity/), which speaks the same postMessage protocol and returns a real
// delegation chain. The replica checks that chain exactly as the IC does.
import type { Identity } from '@dfinity/agent';
import { AuthClient } from '@dfinity/auth-client';
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

/** The signed-in identity, if a valid delegation is stored for this site; otherwise undefined. */
export async function signedInIdentity(): Promise<Identity | undefined> {
  const auth = await authClient();
  return (await auth.isAuthenticated()) ? auth.getIdentity() : undefined;
}

/** Opens the network's identity provider; resolves with the delegated identity once the visitor approves. */
export async function signIn(network: Network): Promise<Identity> {
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
  const auth = await authClient();
  await auth.logout();
  forgetAgents();
}
