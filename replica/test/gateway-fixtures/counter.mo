// A canister that answers HTTP the way a dynamic app does: GET /count is an uncertified query
// that asks the gateway to upgrade to an update call (`upgrade = ?true`), which increments the
// counter through consensus; GET /elsewhere streams from another canister (the gateway must
// refuse). Used by replica/test/gateway-upgrade.test.ts.
import Text "mo:core/Text";
import Nat "mo:core/Nat";
import Principal "mo:core/Principal";

persistent actor {
  type HeaderField = (Text, Text);
  type Token = { key : Text; content_encoding : Text; index : Nat; sha256 : ?Blob };
  type CallbackResponse = { body : Blob; token : ?Token };
  type Strategy = { #Callback : { callback : shared query Token -> async ?CallbackResponse; token : Token } };
  type Request = { method : Text; url : Text; headers : [HeaderField]; body : Blob; certificate_version : ?Nat16 };
  type UpdateRequest = { method : Text; url : Text; headers : [HeaderField]; body : Blob };
  type Response = { status_code : Nat16; headers : [HeaderField]; body : Blob; streaming_strategy : ?Strategy; upgrade : ?Bool };

  var count = 0;

  public query func http_request(request : Request) : async Response {
    if (request.url == "/elsewhere") {
      let other = actor ("aaaaa-aa") : actor { http_request_streaming_callback : shared query Token -> async ?CallbackResponse };
      return {
        status_code = 200;
        headers = [];
        body = "first part";
        streaming_strategy = ?#Callback({ callback = other.http_request_streaming_callback; token = { key = "/x"; content_encoding = "identity"; index = 1; sha256 = null } });
        upgrade = null;
      };
    };
    { status_code = 200; headers = []; body = ""; streaming_strategy = null; upgrade = ?true };
  };

  public func http_request_update(request : UpdateRequest) : async Response {
    count += 1;
    {
      status_code = 200;
      headers = [("content-type", "text/plain")];
      body = Text.encodeUtf8(request.method # " " # request.url # " count=" # Nat.toText(count));
      streaming_strategy = null;
      upgrade = null;
    };
  };

  public query func http_request_streaming_callback(_ : Token) : async ?CallbackResponse { null };
};
