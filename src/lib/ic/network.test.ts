// The network the demos talk to is decided from the build's environment; these pin the rules.
import { describe, expect, it } from 'vitest';
import { AgentError, ErrorKindEnum, HttpFetchErrorCode, TransportError } from '@dfinity/agent';
import { NotDeployedError } from './canisters.ts';
import { CanisterRefusal, describeFailure, unwrap } from './errors.ts';
import { INTERNET_IDENTITY, MAINNET_HOST, NetworkConfigError, resolveNetwork } from './network.ts';

describe('resolveNetwork', () => {
  it('defaults to mainnet with canister_ids.json ids and the built-in root key', () => {
    const network = resolveNetwork({}, { lab: { ic: 'rkp4c-7iaaa-aaaaa-aaaca-cai', local: 'ignored' }, site: { ic: 'x' } });
    expect(network).toEqual({
      name: 'ic',
      host: MAINNET_HOST,
      fetchRootKey: false,
      identityProvider: INTERNET_IDENTITY,
      canisterIds: { lab: 'rkp4c-7iaaa-aaaaa-aaaca-cai' },
    });
  });

  it('takes the mainnet ids a deploy passes over those of canister_ids.json', () => {
    const network = resolveNetwork(
      { PUBLIC_WG_NETWORK: 'ic', PUBLIC_WG_CANISTER_IDS: JSON.stringify({ lab: 'renrk-eyaaa-aaaaa-aaada-cai' }) },
      { lab: { ic: 'rkp4c-7iaaa-aaaaa-aaaca-cai' } },
    );
    expect(network).toMatchObject({ name: 'ic', host: MAINNET_HOST, fetchRootKey: false, canisterIds: { lab: 'renrk-eyaaa-aaaaa-aaada-cai' } });
  });

  it('takes the local replica, its ids and the dev identity provider from npm start', () => {
    const network = resolveNetwork({
      PUBLIC_WG_NETWORK: 'local',
      PUBLIC_WG_HOST: 'http://127.0.0.1:4953',
      PUBLIC_WG_CANISTER_IDS: JSON.stringify({ 'sharding-index': 'renrk-eyaaa-aaaaa-aaada-cai', unknown: 'aaaaa-aa' }),
      PUBLIC_WG_IDENTITY_PROVIDER: 'http://127.0.0.1:4954/',
    });
    expect(network).toMatchObject({
      name: 'local',
      host: 'http://127.0.0.1:4953',
      fetchRootKey: true,
      identityProvider: 'http://127.0.0.1:4954/',
      canisterIds: { 'sharding-index': 'renrk-eyaaa-aaaaa-aaada-cai' },
    });
  });

  it('refuses a misspelt network or malformed ids with a message naming the variable', () => {
    expect(() => resolveNetwork({ PUBLIC_WG_NETWORK: 'mainnet' })).toThrow(NetworkConfigError);
    expect(() => resolveNetwork({ PUBLIC_WG_NETWORK: 'local', PUBLIC_WG_CANISTER_IDS: '{' })).toThrow(/PUBLIC_WG_CANISTER_IDS is not JSON/);
    expect(() => resolveNetwork({ PUBLIC_WG_NETWORK: 'local', PUBLIC_WG_CANISTER_IDS: '{"lab":"not an id"}' })).toThrow(/"lab" should be a canister id/);
  });
});

describe('describeFailure', () => {
  const local = resolveNetwork({ PUBLIC_WG_NETWORK: 'local' });
  const ic = resolveNetwork({});

  it('tells an unreachable replica from a refusing canister', () => {
    const unreachable = TransportError.fromCode(new HttpFetchErrorCode(new TypeError('Failed to fetch')));
    expect(unreachable).toBeInstanceOf(AgentError);
    expect(describeFailure(unreachable, local)).toEqual({
      kind: 'unreachable',
      message: 'The local replica at http://127.0.0.1:4943 is not answering. Is `npm start` still running? Start it again, then retry.',
    });
    expect(describeFailure(new TypeError('Failed to fetch'), ic).message).toMatch(/cannot be reached from this browser/);
    expect(unreachable.kind).toBe(ErrorKindEnum.Transport);
  });

  it('passes a canister refusal through as the canister worded it', () => {
    const refusal = (() => {
      try {
        return unwrap('put', { err: { rateLimited: { message: 'a new bucket is being created', retryAfterSeconds: 1n } } });
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(CanisterRefusal);
    expect(describeFailure(refusal, local)).toEqual({ kind: 'refused', message: 'put refused: a new bucket is being created (try again in 1 s)' });
    expect(unwrap('get', { ok: 7 })).toBe(7);
  });

  it('says how to get ids when a demo canister is missing', () => {
    expect(describeFailure(new NotDeployedError('lab', local), local).message).toMatch(/Start the site with `npm start`/);
    expect(describeFailure(new NotDeployedError('lab', ic), ic).message).toMatch(/not deployed on the Internet Computer mainnet/);
  });
});
