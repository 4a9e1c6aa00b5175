/// How a failed inter-canister call was rejected, as the IC interface spec names the reject code
/// (SYS_UNKNOWN, CANISTER_REJECT, …), for the demos that report it to the page.
import Error "mo:core/Error";
import Nat32 "mo:core/Nat32";

module {
  public func name(error : Error.Error) : Text = switch (Error.code(error)) {
    case (#system_unknown) "SYS_UNKNOWN";
    case (#system_transient) "SYS_TRANSIENT";
    case (#system_fatal) "SYS_FATAL";
    case (#destination_invalid) "DESTINATION_INVALID";
    case (#canister_reject) "CANISTER_REJECT";
    case (#canister_error) "CANISTER_ERROR";
    case (#call_error { err_code }) "call_error " # Nat32.toText(err_code);
    case (#future n) "reject code " # Nat32.toText(n);
  };
};
