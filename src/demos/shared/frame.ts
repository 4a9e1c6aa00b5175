// The frame every demo sits in: its title, the backend and canister ids it talks to, a status
// line for screen readers, and the three states tests and people can tell apart
// (data-demo-status = loading | ready | error). An unreachable network shows a sentence and a
// Retry button, never an empty box.
//
// The backend (data-demo-backend = page | local | ic, see lib/ic/backend.ts) is the frame's
// business, not the demo's: on `page` the frame starts the replica in this tab once the demo
// scrolls into view, installs the demo's canisters there (with progress), and hands the demo a
// network whose agent talks to that replica. A demo's load(frame) is the same on all three.
import type { HttpAgent } from '@dfinity/agent';
import type { DemoId } from '../../../canisters/canisters.ts';
import { agentFor, forgetAgents } from '../../lib/ic/agent.ts';
import { availableBackends, BACKEND_LABELS, chooseBackend, networkFor, rememberBackend, type Backend } from '../../lib/ic/backend.ts';
import { describeFailure, type Failure } from '../../lib/ic/errors.ts';
import { describeNetwork, type DemoCanisterName, type Network } from '../../lib/ic/network.ts';
import { PageReplicaError, pageReplica, type PageReplicaPhase } from '../../lib/ic/page-replica/client.ts';
import { forgetInstalled, installDemo, preparedFiles, WasmLoadError } from '../../lib/ic/page-replica/install.ts';
import { siteNetwork } from '../../lib/ic/site-network.ts';
import { h } from './dom.ts';

export type DemoStatus = 'loading' | 'ready' | 'error';

export interface DemoFrame {
  readonly network: Network;
  readonly root: HTMLElement;
  /** Where the demo draws; emptied before each (re)load. */
  readonly body: HTMLElement;
  /** The anonymous agent (demos that sign in ask agentFor with the identity). */
  agent(): Promise<HttpAgent>;
  /** Lists the canisters on show: fixed ones at load, discovered ones (buckets, partitions) later. */
  showCanisters(list: Array<{ label: string; id: string }>): void;
  /** One line for the status region (announced politely). */
  say(text: string): void;
  /**
   * Runs a visitor's action with its button disabled. Refusals and rejects are shown beside the
   * demo and leave it usable; an unreachable network puts the whole demo in its error state.
   * Nothing to await: every failure of `work` ends here, so a click handler can call it as it is.
   */
  act(button: HTMLButtonElement | undefined, work: () => Promise<void>): void;
}

export interface DemoDefinition {
  demo: DemoId;
  title: string;
  /** The demo canisters it calls by name (listed with their ids under the demo). */
  canisters: DemoCanisterName[];
  /** Draws the demo into frame.body; throws when the network cannot be used. */
  load(frame: DemoFrame): Promise<void>;
}

/** Text with `backticked` commands shown as code. */
function withCode(text: string): Node[] {
  return text.split('`').map((part, i) => (i % 2 ? h('code', {}, part) : document.createTextNode(part)));
}

const PHASE_TEXT: Partial<Record<PageReplicaPhase['phase'], string>> = {
  starting: 'Starting the replica in this page…',
  'waiting-for-lock': 'The replica in this page is open in another tab of this site; this demo starts as soon as that tab is closed…',
};

/**
 * The agent checks each query's signature with the node keys of the canister's subnet, which it
 * reads per canister (a read_state whose certificate it checks: one BLS check on this thread, 50 ms
 * and more) and keeps; but every query that starts before that read came back reads them again,
 * and a demo's first queries start side by side (the stable-memory demo's seven read them seven
 * times). Read once per canister here, all at once, before the demo starts; a failure is left to
 * the demo's own first call, which reads them again and reports it.
 */
async function readSubnetKeys(agent: HttpAgent, canisterIds: string[]): Promise<void> {
  await Promise.all(canisterIds.map((id) => agent.fetchSubnetKeys(id).catch(() => undefined)));
}

export function mountDemo(slot: HTMLElement, definition: DemoDefinition): DemoFrame {
  const available = availableBackends(definition.demo, definition.canisters);
  let backend: Backend | undefined = chooseBackend(available);
  let network: Network = backend ? networkFor(backend) : siteNetwork();
  const titleId = `wg-demo-${definition.demo}-title`;
  const body = h('div', { class: 'wg-demo__body', hidden: true });
  const loading = h('p', { class: 'wg-demo__loading' });
  const status = h('p', { class: 'wg-demo__status', role: 'status', 'aria-live': 'polite' });
  const errorText = h('p', { class: 'wg-demo__error-text' });
  const retry = h('button', { type: 'button', class: 'wg-button' }, 'Retry');
  const resetState = h('button', { type: 'button', class: 'wg-button', hidden: true }, "Reset this page's replica");
  const errorPanel = h('div', { class: 'wg-demo__error', role: 'alert', hidden: true }, errorText, h('div', { class: 'wg-controls' }, retry, resetState));
  const canisterList = h('dl', { class: 'wg-demo__canisters' });
  const networkLine = h('span', {});
  const switchId = `wg-demo-${definition.demo}-backend`;
  const backendSwitch = h('select', { id: switchId }, ...available.map((b) => h('option', { value: b, selected: b === backend }, BACKEND_LABELS[b])));
  const switchBlock = available.length > 1 ? h('span', { class: 'wg-demo__switch' }, h('label', { for: switchId }, 'Run on'), backendSwitch) : null;
  const resetButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, "Reset this page's replica");
  const pageNote = h(
    'p',
    { class: 'wg-demo__page-note', hidden: true },
    'This demo runs on a replica inside this browser tab: the same engine and HTTP interface as the local replica, with its state kept in this browser. ',
    resetButton,
  );
  const networkText = (next: DemoStatus): string => {
    const where = describeNetwork(network);
    return next === 'loading' ? `Connecting to the ${where}` : next === 'ready' ? `Live on the ${where}` : `Not connected: ${where}`;
  };
  const root = h(
    'section',
    {
      class: 'wg-demo not-content',
      'data-demo': definition.demo,
      'data-demo-status': 'loading',
      'data-demo-backend': backend ?? network.name,
      'aria-labelledby': titleId,
    },
    h(
      'header',
      { class: 'wg-demo__header' },
      h('h3', { id: titleId, class: 'wg-demo__title' }, definition.title),
      h('p', { class: 'wg-demo__network' }, h('span', { class: 'wg-demo__dot', 'aria-hidden': 'true' }), networkLine, switchBlock),
    ),
    errorPanel,
    loading,
    body,
    status,
    h('footer', { class: 'wg-demo__footer' }, pageNote, h('p', { class: 'wg-demo__footer-title' }, 'Canisters this demo calls'), canisterList),
  );
  let fixed: Array<{ label: string; id: string }> = [];
  let discovered: Array<{ label: string; id: string }> = [];

  const setStatus = (next: DemoStatus) => {
    root.setAttribute('data-demo-status', next);
    networkLine.textContent = networkText(next);
  };
  const renderCanisters = () => {
    canisterList.replaceChildren(...[...fixed, ...discovered].flatMap(({ label, id }) => [h('dt', {}, label), h('dd', {}, h('code', {}, id))]));
  };
  const listFixed = () => {
    const pending = network.name === 'page' ? 'installed in this page on first use' : 'not deployed on this network';
    fixed = definition.canisters.map((name) => ({ label: name, id: network.canisterIds[name] ?? pending }));
    discovered = [];
    renderCanisters();
  };

  const frame: DemoFrame = {
    get network() {
      return network;
    },
    root,
    body,
    agent: () => agentFor(network),
    showCanisters(list) {
      discovered = list;
      renderCanisters();
    },
    say(text) {
      status.replaceChildren(...withCode(text));
    },
    act(button, work) {
      if (button) {
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
      }
      const run = async () => {
        try {
          await work();
        } catch (error) {
          const failure = failureOf(error);
          // The button just clicked disappears with the demo's body: focus moves to Retry.
          if (failure.kind === 'unreachable' || failure.kind === 'page-state') showError(failure, true);
          else frame.say(failure.message);
        } finally {
          if (button) {
            button.disabled = false;
            button.removeAttribute('aria-busy');
          }
        }
      };
      void run();
    },
  };

  /** The page replica's own failures first: they say what to do (retry, or reset its state). */
  const failureOf = (error: unknown): Failure | { kind: 'page-state'; message: string } => {
    const replicaState = pageReplica.state;
    if (network.name === 'page' && replicaState.phase === 'failed') {
      if (replicaState.kind === 'state-incompatible') {
        return {
          kind: 'page-state',
          message: `The replica state this browser saved cannot be read by this version of the site (${replicaState.message}). Reset it to start the demo afresh.`,
        };
      }
      return {
        kind: 'unreachable',
        message: `${replicaState.kind === 'crashed' ? replicaState.message : `The replica in this page failed: ${replicaState.message}.`} Retry starts it again.`,
      };
    }
    if (error instanceof PageReplicaError) return { kind: 'unreachable', message: `${error.message} Retry starts it again.` };
    // The deploy wraps what failed underneath it (deploying <canister> failed: …).
    for (let cause = error; cause instanceof Error; cause = cause.cause) {
      if (cause instanceof WasmLoadError) return { kind: 'unreachable', message: cause.message };
    }
    return describeFailure(error, network);
  };

  let retried = false;
  const showError = (failure: { kind: string; message: string }, afterClick = retried) => {
    setStatus('error');
    errorText.replaceChildren(...withCode(failure.message));
    errorPanel.hidden = false;
    // Retrying cannot conjure canister ids the build does not have.
    retry.hidden = failure.kind === 'not-deployed' || failure.kind === 'page-state';
    resetState.hidden = failure.kind !== 'page-state';
    body.hidden = true;
    loading.hidden = true;
    status.textContent = '';
    // Keep the visitor's place after their own click on Retry; never grab focus on page load.
    if (afterClick && !retry.hidden) retry.focus({ preventScroll: true });
    if (afterClick && !resetState.hidden) resetState.focus({ preventScroll: true });
  };

  let loads = 0;
  const load = async () => {
    const mine = ++loads;
    root.setAttribute('data-demo-backend', backend ?? network.name);
    pageNote.hidden = network.name !== 'page';
    listFixed();
    loading.textContent = `Connecting to the ${describeNetwork(network)}…`;
    setStatus('loading');
    errorPanel.hidden = true;
    body.hidden = true;
    body.replaceChildren();
    loading.hidden = false;
    status.textContent = '';
    let unsubscribe: (() => void) | undefined;
    try {
      if (network.name === 'page') {
        unsubscribe = pageReplica.subscribe((phase) => {
          const text = PHASE_TEXT[phase.phase];
          if (text && mine === loads) loading.textContent = text;
        });
        loading.textContent = PHASE_TEXT[pageReplica.state.phase] ?? loading.textContent;
        await pageReplica.start(preparedFiles);
        const ids = await installDemo(definition.demo, definition.canisters, (line) => {
          if (mine === loads) loading.textContent = line;
        });
        network = { ...network, canisterIds: ids };
        listFixed();
      }
      if (mine !== loads) return;
      await readSubnetKeys(
        await frame.agent(),
        definition.canisters.flatMap((name) => network.canisterIds[name] ?? []),
      );
      if (mine !== loads) return;
      await definition.load(frame);
      if (mine !== loads) return;
      loading.hidden = true;
      body.hidden = false;
      setStatus('ready');
    } catch (error) {
      if (mine !== loads) return;
      showError(failureOf(error));
    } finally {
      unsubscribe?.();
    }
  };

  /**
   * The page replica is the one heavy part, so nothing of it loads before this page's demo asks:
   * its engine starts (worker, saved state, compiled modules) once the browser is idle on this
   * page or the demo comes within a screen of the viewport, whichever is first; the demo itself
   * (and a first visit's install) runs from then on too if it is that near, else when it scrolls
   * into view.
   */
  const loadWhenVisible = () => {
    if (network.name !== 'page' || typeof IntersectionObserver === 'undefined') return void load();
    loading.textContent = 'The demo starts when you scroll to it.';
    const startEngine = () => {
      if (network.name === 'page') pageReplica.start(preparedFiles).catch(() => {});
    };
    if (typeof requestIdleCallback === 'function') requestIdleCallback(startEngine, { timeout: 3000 });
    else setTimeout(startEngine, 1000);
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        observer.disconnect();
        void load();
      },
      { rootMargin: '100% 0px' },
    );
    observer.observe(root);
  };

  // A crash of the page replica while the demo sits ready shows at once, not at the next click.
  pageReplica.subscribe((phase) => {
    if (network.name === 'page' && phase.phase === 'failed' && root.getAttribute('data-demo-status') === 'ready') showError(failureOf(undefined));
  });

  listFixed();
  retry.addEventListener('click', () => {
    retried = true;
    void load();
  });
  const resetPageReplica = async () => {
    retried = true;
    loading.hidden = false;
    loading.textContent = "Resetting this page's replica…";
    forgetInstalled();
    forgetAgents();
    try {
      await pageReplica.reset();
    } catch (error) {
      showError(failureOf(error), true);
      return;
    }
    await load();
    frame.say("This page's replica was reset: its canisters were installed afresh, with no records.");
  };
  resetState.addEventListener('click', () => void resetPageReplica());
  resetButton.addEventListener('click', () => void resetPageReplica());
  backendSwitch.addEventListener('change', () => {
    const next = backendSwitch.value as Backend;
    if (!available.includes(next)) return;
    backend = next;
    rememberBackend(next);
    network = networkFor(next);
    retried = true;
    loadWhenVisible();
  });
  slot.replaceChildren(root);
  loadWhenVisible();
  return frame;
}
