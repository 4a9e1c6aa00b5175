// The integration point with instruction metering (replica/src/metering/, INTEGRATION.md there):
// every module is instrumented before compilation, and the instance's
// `__ic_instructions_left` global carries the message's budget.
import { instrumentModule } from '../metering/instrument.ts';

export async function instrumentForMetering(bytes: Uint8Array): Promise<{ bytes: Uint8Array; counterExport?: string }> {
  const { wasm, counterExport } = instrumentModule(bytes);
  return { bytes: wasm, counterExport };
}
