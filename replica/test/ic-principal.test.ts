// Principals as the replica holds them (src/ic/principal.ts): the agents' textual form, and one
// sentence per kind of mistake in a textual id.
import { Principal } from '@dfinity/principal';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/ic/bytes.ts';
import {
  ANONYMOUS_PRINCIPAL,
  MANAGEMENT_CANISTER_ID,
  MANAGEMENT_CANISTER_TEXT,
  canisterIdFromNumber,
  principalFromText,
  principalToText,
} from '../src/ic/principal.ts';

describe('principals', () => {
  it('read and write the text the agents do, for every id length', () => {
    for (let length = 0; length <= 29; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
      const text = principalToText(bytes);
      expect(text).toBe(Principal.fromUint8Array(bytes).toText());
      expect(toHex(principalFromText(text))).toBe(toHex(bytes));
    }
    expect(principalToText(MANAGEMENT_CANISTER_ID)).toBe(MANAGEMENT_CANISTER_TEXT);
    expect(principalToText(ANONYMOUS_PRINCIPAL)).toBe('2vxsx-fae');
    expect(principalToText(canisterIdFromNumber(1))).toBe('rrkah-fqaaa-aaaaa-aaaaq-cai');
  });

  it('refuse text that is not a principal, saying why', () => {
    expect(() => principalFromText('rrkah-fqaaa-aaaaa-aaaaq-ca1')).toThrow(/outside the base32 alphabet/);
    expect(() => principalFromText('aaa')).toThrow(/wrong length/);
    expect(() => principalFromText('rrkah-fqaaa-aaaaa-aaaaq-caj')).toThrow(/checksum or grouping is wrong \(expected /);
    // Right bytes, wrong grouping or case: the textual form is canonical.
    expect(() => principalFromText('rrkahfqaaa-aaaaa-aaaaq-cai')).toThrow(/expected rrkah-fqaaa-aaaaa-aaaaq-cai/);
    expect(() => principalFromText('RRKAH-FQAAA-AAAAA-AAAAQ-CAI')).toThrow(/expected rrkah-fqaaa-aaaaa-aaaaq-cai/);
    // The JSON form @dfinity/principal also accepts is not a textual id.
    expect(() => principalFromText('{"__principal__":"aaaaa-aa"}')).toThrow(/base32 alphabet/);
  });
});
