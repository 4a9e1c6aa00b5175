/// The canister of the chunked-install demo. Its own code is tiny; what the demo installs is
/// this module padded to over 2 MiB with a passive data segment of pseudo-random bytes
/// (src/demos/shared/wasm-padding.ts), too large for one ingress message even gzipped. The
/// segment is never copied into memory, so the padded canister runs exactly like this one.
import Time "mo:core/Time";

persistent actor InstallTarget {
  /// When this module was installed (each chunked install is a reinstall: a fresh start).
  let installedAt : Int = Time.now();

  public query func about() : async { installedAt : Int; message : Text } {
    { installedAt; message = "Running the module the lab installed from chunks." }
  };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
