// The lab's two other demo canisters on the local replica: the snapshot target (snapshot, wipe by
// reinstall, restore) and the install target (a module over 2 MiB installed from visitors'
// chunks, and only the module a controller registered).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Replica } from '@scaling-wg/replica';
import type { _SERVICE as LabService } from '../src/declarations/lab/lab.did.ts';
import type { _SERVICE as SnapshotTargetService } from '../src/declarations/snapshot-target/snapshot-target.did.ts';
import type { _SERVICE as InstallTargetService } from '../src/declarations/install-target/install-target.did.ts';
import { canisterModule } from '../scripts/build-canisters.ts';
import { registerLabTargets, unwrap } from '../src/lib/ic/demo-deploy.ts';
import { padWasm } from '../src/demos/shared/wasm-padding.ts';
import { actorAs, alice, bob, deploy, errorOf, owner, principalNamed, startReplica, type Deployed } from './test-support.ts';

let pic: Replica;
let lab: Deployed<LabService>;
let snapshotTarget: Deployed<SnapshotTargetService>;
let installTarget: Deployed<InstallTargetService>;
const MiB = 1024 * 1024;

beforeAll(async () => {
  for (const name of ['lab', 'snapshot-target', 'install-target']) await canisterModule(name);
  pic = await startReplica();
  lab = await deploy<LabService>(pic, 'lab');
  snapshotTarget = await deploy<SnapshotTargetService>(pic, 'snapshot-target', { controllers: [owner, lab.canisterId] });
  installTarget = await deploy<InstallTargetService>(pic, 'install-target', { controllers: [owner, lab.canisterId] });
  await registerLabTargets(lab.actor, {
    'snapshot-target': { canisterId: snapshotTarget.canisterId, wasm: snapshotTarget.wasm },
    'install-target': { canisterId: installTarget.canisterId, wasm: installTarget.wasm },
  });
});

afterAll(async () => {
  await pic?.tearDown();
});

describe('snapshot target', () => {
  it('a snapshot brings back exactly the records a reinstall wiped', async () => {
    const visitorLab = actorAs(pic, lab, alice);
    const target = actorAs(pic, snapshotTarget, alice);
    const added = unwrap(await target.addRecords(700n), 'addRecords');
    expect(added.records).toBe(700n);

    const taken = unwrap(await visitorLab.takeSnapshot(), 'takeSnapshot');
    expect(taken.step).toBe('snapshot');
    expect(taken.snapshotBytes).toBeGreaterThan(BigInt(snapshotTarget.wasm.byteLength));
    expect([taken.records, taken.checksum]).toEqual([700n, added.checksum]);

    const broken = unwrap(await visitorLab.breakTarget(), 'breakTarget');
    expect(broken.records).toBe(0n);
    expect((await target.getStats()).records).toBe(0n);

    const restored = unwrap(await visitorLab.restoreSnapshot(), 'restoreSnapshot');
    expect([restored.records, restored.checksum]).toEqual([700n, added.checksum]);
    const status = await lab.actor.opsStatus();
    expect(status.steps.map((s) => s.step)).toEqual(['restore', 'break', 'snapshot']);
    expect(status.snapshot[0]?.records).toBe(700n);

    // The same step again within the interval is refused, with the wait in seconds.
    const again = errorOf(await actorAs(pic, lab, bob).restoreSnapshot());
    expect(again.kind).toBe('rateLimited');
    await pic.advanceTime(6_000);
  });

  it('only controllers register canisters or modules', async () => {
    const visitorLab = actorAs(pic, lab, alice);
    expect(errorOf(await visitorLab.registerTarget({ snapshot: null }, snapshotTarget.canisterId)).kind).toBe('notAuthorized');
    expect(errorOf(await visitorLab.setInstallModule(new Uint8Array(32), 10n)).kind).toBe('notAuthorized');
    expect(errorOf(await visitorLab.uploadTargetModule({ snapshot: null }, new Uint8Array(10))).kind).toBe('notAuthorized');
    expect(errorOf(await snapshotTarget.actor.addRecords(1_001n)).kind).toBe('invalidArgument');
  });
});

describe('install target', () => {
  it('installs the registered module from chunks, and only that module', async () => {
    const padded = padWasm(installTarget.wasm);
    expect(padded.byteLength).toBeGreaterThan(2 * MiB);
    const visitorLab = actorAs(pic, lab, alice);
    const plan = (await lab.actor.opsStatus()).install;
    expect(plan.moduleBytes).toBe(BigInt(padded.byteLength));
    expect(Buffer.from(plan.moduleHash[0]!).toString('hex')).toBe(createHash('sha256').update(padded).digest('hex'));

    // Someone else's bytes of the right size: uploaded, but the install refuses them.
    const forged = new Uint8Array(padded);
    forged[forged.length - 1] ^= 0xff;
    for (const [bytes, expectInstalled] of [
      [forged, false],
      [padded, true],
    ] as const) {
      await pic.advanceTime(6_000);
      const session = unwrap(await visitorLab.beginInstall(), 'beginInstall');
      for (let offset = 0; offset < bytes.byteLength; offset += MiB) {
        const chunk = bytes.subarray(offset, offset + MiB);
        const stored = unwrap(await visitorLab.uploadInstallChunk(session.id, chunk), 'uploadInstallChunk');
        expect(Buffer.from(stored.hash).toString('hex')).toBe(createHash('sha256').update(chunk).digest('hex'));
      }
      const result = await visitorLab.installChunked(session.id);
      if (expectInstalled) {
        const report = unwrap(result, 'installChunked');
        expect(Buffer.from(report.moduleHash[0]!).toString('hex')).toBe(createHash('sha256').update(padded).digest('hex'));
        expect(report.outcome).toBe('installed from 3 chunks');
      } else {
        expect(errorOf(result).text).toMatch(/Error from Wasm chunk store: Wasm module hash \[[0-9, ]+\] does not match given hash WasmHash/);
      }
    }
    // The padded module runs like the small one.
    expect((await installTarget.actor.about()).message).toMatch(/installed from chunks/);
  });

  it('keeps one upload at a time and chunks within the IC limit', async () => {
    await pic.advanceTime(6_000);
    const session = unwrap(await actorAs(pic, lab, alice).beginInstall(), 'beginInstall');
    expect(errorOf(await actorAs(pic, lab, bob).beginInstall()).kind).toBe('rateLimited');
    expect(errorOf(await actorAs(pic, lab, bob).uploadInstallChunk(session.id, new Uint8Array(10))).kind).toBe('notFound');
    expect(errorOf(await actorAs(pic, lab, alice).uploadInstallChunk(session.id, new Uint8Array(MiB + 1))).kind).toBe('invalidArgument');
  });
});

describe("the lab's budget of code changes", () => {
  it('refuses a caller whose share is spent before charging the hourly budget', async () => {
    await pic.advanceTime(3_600_000); // a fresh hourly window
    // 8 code changes an hour, a quarter of them per caller; no interval between steps.
    unwrap(await lab.actor.configure({ storeIntervalSeconds: 0n, upgradesPerHour: 8n }), 'configure');
    expect((await lab.actor.opsStatus()).stepsPerCallerPerHour).toBe(2n);
    const carol = actorAs(pic, lab, principalNamed('carol'));
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const result = await carol.takeSnapshot();
      outcomes.push('ok' in result ? 'ok' : errorOf(result).text);
    }
    expect(outcomes.slice(0, 2)).toEqual(['ok', 'ok']);
    for (const refused of outcomes.slice(2)) expect(refused).toMatch(/you have used your share of the lab's hourly code change budget \(2\)/);
    // Carol's refused attempts took nothing: the other six changes of the hour are still there.
    for (const name of ['dave', 'erin', 'frank']) {
      const visitor = actorAs(pic, lab, principalNamed(name));
      unwrap(await visitor.takeSnapshot(), `${name}'s first step`);
      unwrap(await visitor.takeSnapshot(), `${name}'s second step`);
    }
    const spent = errorOf(await actorAs(pic, lab, principalNamed('grace')).takeSnapshot());
    expect(spent.text).toMatch(/the lab's hourly code change budget is spent/);
    await pic.advanceTime(3_600_000);
    unwrap(await lab.actor.configure({ storeIntervalSeconds: 5n, upgradesPerHour: 120n }), 'configure');
  });
});
