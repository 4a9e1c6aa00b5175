// `npm run bench subnet`: how many rounds per second the scheduler runs when 1, 10 or 100
// canisters each have an update to execute in every round (instant pacing, in this process,
// no HTTP). The floor is the same update executed directly (Scheduler.run: metering, the
// atomic commit, cycles), without queues or rounds, measured in the same run. Every loop is
// bounded in count and time.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { Replica } from '@scaling-wg/replica';
import { counterWasm } from '../replica/test/http-support.ts';
import { lineWriter } from './lib/bench-support.ts';

const line = lineWriter(44);
const INC = new Uint8Array(IDL.encode([], []));

export async function subnetSection(): Promise<void> {
  console.log('\n== Subnet: rounds per second with busy canisters (instant pacing, in process) ==');
  const wasm = await counterWasm();
  let floor = 0;
  {
    const pic = await Replica.create({ log: 'quiet', time: new Date('2026-01-01') });
    const id = await pic.createCanister({ cycles: 10n ** 15n });
    await pic.installCode({ canisterId: id, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])) });
    const c = pic.scheduler.canister(id)!;
    const direct = () =>
      pic.scheduler.run(
        c,
        pic.scheduler.newContext(c, 'U', { caller: Principal.anonymous().toUint8Array(), arg: INC, methodName: 'inc' }),
        { export: 'canister_update inc' },
        true,
        { method: 'inc' },
      );
    for (let i = 0; i < 50; i++) direct();
    const started = performance.now();
    let n = 0;
    while (n < 5000 && performance.now() - started < 5000) {
      direct();
      n++;
    }
    floor = n / ((performance.now() - started) / 1000);
    line('floor: the update executed directly', `${floor.toFixed(0)} updates/s`);
    await pic.tearDown();
  }
  for (const busy of [1, 10, 100]) {
    const pic = await Replica.create({ log: 'quiet', time: new Date('2026-01-01') });
    const ids: Principal[] = [];
    for (let i = 0; i < busy; i++) {
      const id = await pic.createCanister({ cycles: 10n ** 15n });
      await pic.installCode({ canisterId: id, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])) });
      ids.push(id);
    }
    const sender = Principal.anonymous().toUint8Array();
    // Each step submits one update to every canister before the round starts: one round runs them all.
    const step = () => Promise.all(ids.map((id) => pic.scheduler.submitIngress(id.toText(), 'inc', INC, sender)));
    for (let i = 0; i < 5; i++) await step();
    const rounds0 = pic.rounds();
    const started = performance.now();
    let steps = 0;
    while (steps < 2000 && performance.now() - started < 5000) {
      await step();
      steps++;
    }
    const seconds = (performance.now() - started) / 1000;
    const rounds = pic.rounds() - rounds0;
    const updates = (steps * busy) / seconds;
    line(
      `${busy} busy canister${busy === 1 ? '' : 's'}`,
      `${(rounds / seconds).toFixed(0)} rounds/s, ${updates.toFixed(0)} updates/s (${(updates / floor).toFixed(2)}x floor; ${rounds} rounds in ${seconds.toFixed(1)} s)`,
    );
    await pic.tearDown();
  }
}
