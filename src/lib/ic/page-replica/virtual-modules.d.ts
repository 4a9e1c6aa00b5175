// Written by the Vite plugin in src/integrations/demo-wasm.ts.
declare module 'virtual:wg-demo-wasm' {
  const modules: Array<{
    /** canisters/canisters.ts name. */
    name: string;
    demo: import('../../../../canisters/canisters.ts').DemoId;
    /** Where the site serves the module (gzipped, content-hashed name). */
    url: string;
    /** sha256 (hex) of the module as installed, i.e. after decompression: the replica's module_hash. */
    sha256: string;
    /** Its size in bytes, uncompressed. */
    bytes: number;
    /**
     * The module as the engine prepares it (replica/src/execution/prepared-file.ts, gzipped), for
     * the engine version `engine`, under the module cache key `key` (module hash and options);
     * sha256 (hex) of the file after decompression. Absent in dev.
     */
    prepared?: { url: string; sha256: string; key: string };
    /** The same for each module it carries to install in canisters it creates (Motoko actor classes); empty in dev. */
    embedded: Array<{ url: string; sha256: string; key: string }>;
  }>;
  /** The engine version the prepared files were made for (a hash of replica/); undefined in dev. */
  export const engine: string | undefined;
  export default modules;
}
