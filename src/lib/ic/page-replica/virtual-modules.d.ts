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
  }>;
  export default modules;
}
