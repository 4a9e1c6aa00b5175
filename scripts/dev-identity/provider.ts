// The page of the local development identity provider (served by server.ts, types stripped).
// It plays Internet Identity's part of the client authentication protocol (II spec, "Client
// authentication protocol"; @dfinity/auth-client's login code) so that @dfinity/auth-client runs the same code
// locally as on mainnet:
//   1. we post { kind: 'authorize-ready' } to the opener;
//   2. the client posts { kind: 'authorize-client', sessionPublicKey, maxTimeToLive, ... };
//   3. the visitor picks a user; we sign a delegation from that user's key to the session key and
//      post { kind: 'authorize-client-success', delegations, userPublicKey, authnMethod }
//      (or 'authorize-client-failure'), to the requesting origin only. auth-client closes us.
// As with II, the principal depends on the site asking: each (user, origin) pair has its own
// P-256 key, kept non-extractable in this origin's IndexedDB.
import { generateUserKey, selfAuthenticatingPrincipal, signDelegation } from './delegation.ts';

interface StoredKey {
  keyPair: CryptoKeyPair;
  publicKeyDer: Uint8Array;
}

interface AuthorizeClient {
  kind: 'authorize-client';
  sessionPublicKey: Uint8Array;
  maxTimeToLive?: bigint | number;
  derivationOrigin?: string;
}

const USERS_KEY = 'dev-identity-users';
const main = document.querySelector('main')!;
const status = document.getElementById('status')!;

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('dev-identity', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('keys');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function keyFor(user: string, origin: string): Promise<StoredKey> {
  const db = await openDb();
  const id = `${user}\n${origin}`;
  const existing = await new Promise<StoredKey | undefined>((resolve, reject) => {
    const request = db.transaction('keys').objectStore('keys').get(id);
    request.onsuccess = () => resolve(request.result as StoredKey | undefined);
    request.onerror = () => reject(request.error);
  });
  if (existing) return existing;
  const created = await generateUserKey();
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('keys', 'readwrite');
    tx.objectStore('keys').put(created, id);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  return created;
}

function users(): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(USERS_KEY) ?? '[]');
    if (Array.isArray(stored) && stored.length) return stored.filter((u) => typeof u === 'string');
  } catch {
    // A damaged list is replaced by the default one.
  }
  return ['Alice', 'Bob'];
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function describeTtl(ns: bigint | number | undefined): string {
  if (ns === undefined) return 'the default 30 minutes';
  const minutes = Number(BigInt(ns) / 60_000_000_000n);
  return minutes >= 120 ? `${Math.round(minutes / 60)} hours` : `${minutes} minutes`;
}

function isAuthorizeClient(data: unknown): data is AuthorizeClient {
  const d = data as AuthorizeClient | null;
  return !!d && d.kind === 'authorize-client' && d.sessionPublicKey instanceof Uint8Array;
}

async function showRequest(request: AuthorizeClient, requester: string): Promise<void> {
  const reply = (message: unknown) => window.opener?.postMessage(message, requester);
  // Like II, a derivation origin lets several front-ends share principals; II checks the
  // derivation origin's /.well-known/ii-alternative-origins. This dev provider does not fetch
  // that list, so it only accepts the requester itself rather than hand out another site's principal.
  if (request.derivationOrigin !== undefined && request.derivationOrigin !== requester) {
    reply({
      kind: 'authorize-client-failure',
      text: `derivationOrigin ${request.derivationOrigin} is not supported by the local development identity provider (requester ${requester})`,
    });
    status.textContent = "Refused: the site asked for another origin's principals.";
    return;
  }
  const ttl = request.maxTimeToLive === undefined ? undefined : BigInt(request.maxTimeToLive);
  main.replaceChildren(
    el('h1', 'Sign in (local development)'),
    el('p', `${requester} asks you to sign in. It will act as the user you pick for ${describeTtl(ttl)}.`),
  );
  const list = el('ul', undefined, { class: 'users' });
  main.append(list);
  const approve = async (user: string) => {
    status.textContent = `Signing a delegation for ${user}…`;
    const key = await keyFor(user, requester);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const signed = await signDelegation(key.keyPair.privateKey, request.sessionPublicKey, ttl, nowNs);
    // No `targets`: a Principal does not survive structured cloning (postMessage), and II never sends them.
    reply({ kind: 'authorize-client-success', delegations: [signed], userPublicKey: key.publicKeyDer, authnMethod: 'passkey' });
    status.textContent = `Signed in as ${user}. This window closes itself.`;
  };
  const addUser = async (user: string) => {
    const key = await keyFor(user, requester);
    const item = el('li');
    const button = el('button', `Continue as ${user}`, { type: 'button' });
    button.addEventListener('click', () => void approve(user));
    item.append(button, el('code', selfAuthenticatingPrincipal(key.publicKeyDer)));
    list.append(item);
  };
  for (const user of users()) await addUser(user);
  const create = el('button', 'Create another user', { type: 'button', class: 'secondary' });
  create.addEventListener('click', () => {
    const all = users();
    const name = `User ${all.length + 1}`;
    localStorage.setItem(USERS_KEY, JSON.stringify([...all, name]));
    void addUser(name);
  });
  const cancel = el('button', 'Cancel', { type: 'button', class: 'secondary' });
  cancel.addEventListener('click', () => {
    reply({ kind: 'authorize-client-failure', text: 'The user cancelled sign-in' });
    status.textContent = 'Cancelled.';
  });
  main.append(el('p', undefined, { class: 'actions' }), status);
  main.querySelector('.actions')!.append(create, cancel);
  status.textContent = '';
}

function start(): void {
  if (!window.opener) {
    status.textContent =
      'This is the local development identity provider. A site opens it from its sign-in button (auth-client); opened on its own it has nothing to do.';
    return;
  }
  let answered = false;
  window.addEventListener('message', (event: MessageEvent) => {
    // Only the window that opened us may ask, and only once; our own origin never asks (as II).
    if (answered || event.source !== window.opener || event.origin === window.location.origin) return;
    if (!isAuthorizeClient(event.data)) return;
    answered = true;
    void showRequest(event.data, event.origin).catch((error: Error) => {
      status.textContent = `Signing failed: ${error.message}`;
      window.opener?.postMessage({ kind: 'authorize-client-failure', text: error.message }, event.origin);
    });
  });
  status.textContent = 'Waiting for the site to send its sign-in request…';
  window.opener.postMessage({ kind: 'authorize-ready' }, '*');
  setTimeout(() => {
    if (!answered) status.textContent = 'The site sent no sign-in request within 10 seconds. Close this window and try again.';
  }, 10_000);
}

start();
