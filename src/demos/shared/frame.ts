// The frame every demo sits in: its title, the network and canister ids it talks to, a status
// line for screen readers, and the three states tests and people can tell apart
// (data-demo-status = loading | ready | error). An unreachable network shows a sentence and a
// Retry button, never an empty box.
import type { HttpAgent } from '@dfinity/agent';
import { agentFor } from '../../lib/ic/agent.ts';
import { describeFailure, type Failure } from '../../lib/ic/errors.ts';
import { describeNetwork, type DemoCanisterName, type Network } from '../../lib/ic/network.ts';
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
   */
  act(button: HTMLButtonElement | undefined, work: () => Promise<void>): Promise<void>;
}

export interface DemoDefinition {
  demo: string;
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

export function mountDemo(slot: HTMLElement, definition: DemoDefinition): DemoFrame {
  const network = siteNetwork();
  const titleId = `wg-demo-${definition.demo}-title`;
  const body = h('div', { class: 'wg-demo__body', hidden: true });
  const loading = h('p', { class: 'wg-demo__loading' }, `Connecting to the ${describeNetwork(network)}…`);
  const status = h('p', { class: 'wg-demo__status', role: 'status', 'aria-live': 'polite' });
  const errorText = h('p', { class: 'wg-demo__error-text' });
  const retry = h('button', { type: 'button', class: 'wg-button' }, 'Retry');
  const errorPanel = h('div', { class: 'wg-demo__error', role: 'alert', hidden: true }, errorText, retry);
  const canisterList = h('dl', { class: 'wg-demo__canisters' });
  const networkLine = h('span', {});
  const networkText: Record<DemoStatus, string> = {
    loading: `Connecting to the ${describeNetwork(network)}`,
    ready: `Live on the ${describeNetwork(network)}`,
    error: `Not connected: ${describeNetwork(network)}`,
  };
  const root = h(
    'section',
    { class: 'wg-demo not-content', 'data-demo': definition.demo, 'data-demo-status': 'loading', 'aria-labelledby': titleId },
    h(
      'header',
      { class: 'wg-demo__header' },
      h('h3', { id: titleId, class: 'wg-demo__title' }, definition.title),
      h('p', { class: 'wg-demo__network' }, h('span', { class: 'wg-demo__dot', 'aria-hidden': 'true' }), networkLine),
    ),
    errorPanel,
    loading,
    body,
    status,
    h('footer', { class: 'wg-demo__footer' }, h('p', { class: 'wg-demo__footer-title' }, 'Canisters this demo calls'), canisterList),
  );
  const fixed: Array<{ label: string; id: string }> = [];
  let discovered: Array<{ label: string; id: string }> = [];

  const setStatus = (next: DemoStatus) => {
    root.setAttribute('data-demo-status', next);
    networkLine.textContent = networkText[next];
  };
  const renderCanisters = () => {
    canisterList.replaceChildren(
      ...[...fixed, ...discovered].flatMap(({ label, id }) => [h('dt', {}, label), h('dd', {}, h('code', {}, id))]),
    );
  };

  const frame: DemoFrame = {
    network,
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
    async act(button, work) {
      if (button) {
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
      }
      try {
        await work();
      } catch (error) {
        const failure = describeFailure(error, network);
        // The button just clicked disappears with the demo's body: focus moves to Retry.
        if (failure.kind === 'unreachable') showError(failure, true);
        else frame.say(failure.message);
      } finally {
        if (button) {
          button.disabled = false;
          button.removeAttribute('aria-busy');
        }
      }
    },
  };

  let retried = false;
  const showError = (failure: Failure, afterClick = retried) => {
    setStatus('error');
    errorText.replaceChildren(...withCode(failure.message));
    errorPanel.hidden = false;
    // Retrying cannot conjure canister ids the build does not have.
    retry.hidden = failure.kind === 'not-deployed';
    body.hidden = true;
    status.textContent = '';
    // Keep the visitor's place after their own click on Retry; never grab focus on page load.
    if (afterClick && !retry.hidden) retry.focus({ preventScroll: true });
  };

  const load = async () => {
    setStatus('loading');
    errorPanel.hidden = true;
    body.hidden = true;
    body.replaceChildren();
    loading.hidden = false;
    status.textContent = '';
    try {
      await definition.load(frame);
      loading.hidden = true;
      body.hidden = false;
      setStatus('ready');
    } catch (error) {
      loading.hidden = true;
      showError(describeFailure(error, network));
    }
  };

  for (const name of definition.canisters) fixed.push({ label: name, id: network.canisterIds[name] ?? 'not deployed on this network' });
  renderCanisters();
  retry.addEventListener('click', () => {
    retried = true;
    void load();
  });
  slot.replaceChildren(root);
  void load();
  return frame;
}
