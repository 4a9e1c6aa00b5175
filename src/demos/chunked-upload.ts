// Chunked Wasm upload demo. The browser builds a module over 2 MiB (the install target's small
// Motoko module, served by the lab, padded with a passive data segment: shared/wasm-padding.ts),
// then installs it two ways:
//   1. one install_code call carrying the whole module: refused, the message is over the IC's
//      2 MiB ingress limit before any canister sees it;
//   2. the chunked path: 1 MiB chunks to the lab, which passes each to the management canister's
//      upload_chunk for the install target (the lab controls it; visitors do not), then
//      install_chunked_code with the hash of the whole module.
// The lab installs only the module whose hash a controller registered, so visitors move bytes
// but never choose code. Shown: progress, chunk count, each chunk's hash (computed here and
// returned by the IC), the module hash the canister reports afterwards, times and cycles.
import { Actor, AgentError, HttpErrorCode, type ActorSubclass } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { canisterId, demoActor, type InstallTargetService, type LabService } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { ChunkReport, StepReport } from '../declarations/lab/lab.did.ts';
import { append, dataTable, h } from './shared/dom.ts';
import { formatBytes, formatCycles, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';
import { PADDING_BYTES, padWasm } from './shared/wasm-padding.ts';

/** install_code as ic.did declares it: all the single-message path needs. */
const installCodeIdl: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    install_code: IDL.Func(
      [
        IDL.Record({
          mode: IDL.Variant({ install: IDL.Null, reinstall: IDL.Null, upgrade: IDL.Opt(IDL.Record({})) }),
          canister_id: IDL.Principal,
          wasm_module: IDL.Vec(IDL.Nat8),
          arg: IDL.Vec(IDL.Nat8),
        }),
      ],
      [],
      [],
    ),
  });
interface InstallCodeService {
  install_code(arg: { mode: { reinstall: null }; canister_id: Principal; wasm_module: Uint8Array; arg: Uint8Array }): Promise<void>;
}

const INGRESS_LIMIT = 2 * 1024 * 1024;

function toHex(bytes: Uint8Array | number[]): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** The reason a refused call gives: the HTTP status and the replica's own words, not the agent's dump of the exchange. */
function refusalText(error: unknown): string {
  if (error instanceof AgentError && error.cause.code instanceof HttpErrorCode) {
    const { status, statusText, bodyText } = error.cause.code;
    return `HTTP ${status} ${statusText}${bodyText ? `: ${bodyText.trim()}` : ''}`;
  }
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const lab: ActorSubclass<LabService> = demoActor(agent, frame.network, 'lab');
  const target: ActorSubclass<InstallTargetService> = demoActor(agent, frame.network, 'install-target');
  const targetId = Principal.fromText(canisterId(frame.network, 'install-target'));

  const [status, base] = await Promise.all([lab.opsStatus(), lab.installBaseModule()]);
  const plan = status.install;
  const baseModule = base[0];
  if (!baseModule || !plan.moduleHash.length) throw new Error('The lab holds no module for the install demo yet (npm start registers it).');
  const wasm = padWasm(new Uint8Array(baseModule));
  const moduleHash = await sha256(wasm);
  const expected = toHex(plan.moduleHash[0]!);
  const chunkBytes = Number(plan.maxChunkBytes);
  const chunkCount = Math.ceil(wasm.byteLength / chunkBytes);

  const singleButton = h('button', { type: 'button', class: 'wg-button' }, 'Send it as one install_code');
  const chunkedButton = h('button', { type: 'button', class: 'wg-button' }, 'Upload in chunks and install');
  const singleResult = h('div', { 'aria-live': 'polite' });
  const progress = h('progress', { max: wasm.byteLength, value: 0, id: 'wg-cu-progress' });
  const progressText = h('span', {}, `0 of ${formatBytes(wasm.byteLength)}`);
  const chunkTable = h('div', {});
  const chunkedResult = h('div', { 'aria-live': 'polite' });

  singleButton.addEventListener('click', () =>
    frame.act(singleButton, async () => {
      frame.say(`Sending ${formatBytes(wasm.byteLength)} in one install_code…`);
      const management = Actor.createActor<InstallCodeService>(installCodeIdl, {
        agent,
        canisterId: Principal.managementCanister(),
        effectiveCanisterId: targetId,
      });
      const started = performance.now();
      try {
        await management.install_code({
          mode: { reinstall: null },
          canister_id: targetId,
          wasm_module: wasm,
          arg: new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0, 0]),
        });
        singleResult.replaceChildren(
          h(
            'p',
            { class: 'wg-verdict wg-verdict--bad', 'data-single': 'accepted' },
            'The single message was accepted, which the IC would not do for a message this size.',
          ),
        );
      } catch (error) {
        singleResult.replaceChildren(
          h(
            'p',
            { class: 'wg-verdict wg-verdict--bad', 'data-single': 'refused' },
            `Refused before any canister ran (${formatMs(performance.now() - started)}, the agent's retries included): `,
            h('code', {}, refusalText(error)),
          ),
        );
      }
      frame.say('One message cannot carry this module; the chunked path can.');
    }),
  );

  chunkedButton.addEventListener('click', () =>
    frame.act(chunkedButton, async () => {
      chunkedResult.replaceChildren();
      const started = performance.now();
      const session = unwrap('lab.beginInstall', await lab.beginInstall());
      const rows: HTMLElement[] = [];
      const reports: ChunkReport[] = [];
      progress.value = 0;
      for (let index = 0, offset = 0; offset < wasm.byteLength; index++, offset += chunkBytes) {
        const chunk = wasm.subarray(offset, Math.min(wasm.byteLength, offset + chunkBytes));
        frame.say(`Uploading chunk ${index + 1} of ${chunkCount}…`);
        const [local, sent] = await Promise.all([
          sha256(chunk),
          (async () => {
            const t = performance.now();
            const report = unwrap('lab.uploadInstallChunk', await lab.uploadInstallChunk(session.id, chunk));
            return { report, ms: performance.now() - t };
          })(),
        ]);
        reports.push(sent.report);
        const stored = toHex(sent.report.hash);
        progress.value = offset + chunk.byteLength;
        progressText.textContent = `${formatBytes(offset + chunk.byteLength)} of ${formatBytes(wasm.byteLength)}`;
        rows.push(
          h(
            'tr',
            { 'data-chunk': String(index), 'data-hash-matches': String(stored === local) },
            h('th', { scope: 'row' }, String(index + 1)),
            h('td', { class: 'num' }, formatBytes(chunk.byteLength)),
            h('td', {}, h('code', { title: stored }, short(stored)), stored === local ? ' (same as computed here)' : ` (computed here: ${short(local)})`),
            h('td', { class: 'num' }, formatMs(sent.ms)),
            h('td', { class: 'num' }, formatCycles(sent.report.labCyclesBefore - sent.report.labCyclesAfter)),
          ),
        );
        renderChunks(rows);
      }
      frame.say('Installing from the chunk store…');
      const installStarted = performance.now();
      const report: StepReport = unwrap('lab.installChunked', await lab.installChunked(session.id));
      const installMs = performance.now() - installStarted;
      const reported = report.moduleHash[0] ? toHex(report.moduleHash[0]) : '';
      const about = await target.about();
      const total = performance.now() - started;
      const uploadCycles = reports.reduce((n, r) => n + (r.labCyclesBefore - r.labCyclesAfter), 0n);
      chunkedResult.replaceChildren(
        h(
          'p',
          {
            class: `wg-verdict ${reported === moduleHash ? 'wg-verdict--good' : 'wg-verdict--bad'}`,
            'data-chunked': reported === moduleHash ? 'installed' : 'mismatch',
            'data-chunks': String(reports.length),
          },
          `Installed from ${reports.length} chunks in ${formatMs(total)} (install_chunked_code ${formatMs(installMs)}). The canister now reports module hash `,
          h('code', { title: reported }, short(reported)),
          reported === moduleHash ? ', the hash of the module built here. ' : `, not the ${short(moduleHash)} built here. `,
          `It answers: “${about.message}”`,
        ),
        h(
          'p',
          { class: 'wg-card__sub' },
          `Cycles: the lab spent ${formatCycles(uploadCycles)} passing the chunks on and ${formatCycles(report.labCyclesBefore - report.labCyclesAfter)} on the install; ` +
            `the install target was charged ${formatCycles(report.targetCyclesBefore > report.targetCyclesAfter ? report.targetCyclesBefore - report.targetCyclesAfter : 0n)}.`,
        ),
      );
      frame.say(`Installed ${formatBytes(wasm.byteLength)} from ${reports.length} chunks.`);
    }),
  );

  const renderChunks = (rows: HTMLElement[]) => {
    chunkTable.replaceChildren(
      dataTable({
        caption: 'Chunks in the install target’s chunk store (hash: SHA-256, as upload_chunk returns it)',
        columns: ['Chunk', { label: 'Size', num: true }, 'Hash', { label: 'Round trip', num: true }, { label: 'Lab cycles', num: true }],
        rows,
        empty: 'Nothing uploaded yet.',
      }),
    );
  };
  renderChunks([]);

  append(
    frame.body,
    h(
      'p',
      {},
      `The module below is the demo canister’s own ${formatBytes(baseModule.length)} of Motoko, padded by your browser with ${formatBytes(PADDING_BYTES)} of pseudo-random bytes in a passive data segment (never copied into memory, and too random for gzip to shrink). One ingress message may carry at most ${formatBytes(INGRESS_LIMIT)}.`,
    ),
    h(
      'dl',
      { class: 'wg-stats', 'data-module-bytes': String(wasm.byteLength) },
      h('dt', {}, 'Module'),
      h('dd', {}, `${formatBytes(wasm.byteLength)}: ${chunkCount} chunks of at most ${formatBytes(chunkBytes)}`),
      h('dt', {}, 'SHA-256'),
      h(
        'dd',
        {},
        h('code', { title: moduleHash }, short(moduleHash)),
        moduleHash === expected ? ' (the hash the lab installs)' : ' (NOT the hash the lab installs: it will refuse it)',
      ),
    ),
    h('div', { class: 'wg-controls' }, singleButton, chunkedButton),
    singleResult,
    h('p', { class: 'wg-controls' }, h('label', { for: 'wg-cu-progress' }, 'Uploaded'), progress, progressText),
    chunkTable,
    chunkedResult,
    h(
      'p',
      { class: 'wg-card__sub' },
      `Only a controller may upload chunks or install code, so your chunks go through the lab canister, which controls the demo canister and installs nothing but the module above. One upload at a time; each caller ${status.stepsPerCallerPerHour} lab steps an hour.`,
    ),
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'chunked-upload',
    title: 'Live demo: installing a module over 2 MiB',
    canisters: ['lab', 'install-target'],
    load,
  });
}
