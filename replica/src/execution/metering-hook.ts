// The integration point with instruction metering (contract E, replica/src/metering/, owned by
// the metering engineer). When ../metering/instrument.ts exists, every module is instrumented
// before compilation and the instance's `__ic_instructions_left` global carries the budget;
// until then modules run unmetered and ic0.performance_counter reports 0 (never invented numbers).

type Instrument = (bytes: Uint8Array) => { wasm: Uint8Array; counterExport: string };

let instrument: Instrument | null | undefined;

async function loadInstrumenter(): Promise<Instrument | null> {
  if (instrument !== undefined) return instrument;
  try {
    const path = '../metering/instrument.ts';
    const mod = (await import(/* @vite-ignore */ path)) as { instrumentModule?: Instrument };
    instrument = typeof mod.instrumentModule === 'function' ? mod.instrumentModule : null;
  } catch {
    instrument = null;
  }
  return instrument;
}

/** Whether modules are being metered (the metering module is present and loaded). */
export async function meteringAvailable(): Promise<boolean> {
  return (await loadInstrumenter()) !== null;
}

export async function instrumentForMetering(bytes: Uint8Array): Promise<{ bytes: Uint8Array; counterExport?: string }> {
  const f = await loadInstrumenter();
  if (!f) return { bytes };
  const { wasm, counterExport } = f(bytes);
  return { bytes: wasm, counterExport };
}
