/// The asset canister's Candid types (DFINITY's assets.did, the part @dfinity/assets and HTTP
/// gateways use, plus compatible extensions) and the records its state is made of.
import List "mo:core/List";
import Map "mo:core/Map";

module {
  public type Key = Text;
  public type HeaderField = (Text, Text);
  public type BatchId = Nat;
  public type ChunkId = Nat;
  public type Permission = { #Commit; #ManagePermissions; #Prepare };

  public type CreateAssetArguments = { key : Key; content_type : Text; headers : ?[HeaderField]; max_age : ?Nat64 };
  public type SetAssetContentArguments = { key : Key; content_encoding : Text; chunk_ids : [ChunkId]; sha256 : ?Blob };
  public type UnsetAssetContentArguments = { key : Key; content_encoding : Text };
  public type DeleteAssetArguments = { key : Key };
  public type ClearArguments = {};
  public type BatchOperationKind = {
    #CreateAsset : CreateAssetArguments;
    #SetAssetContent : SetAssetContentArguments;
    #UnsetAssetContent : UnsetAssetContentArguments;
    #DeleteAsset : DeleteAssetArguments;
    #Clear : ClearArguments;
  };
  public type CommitBatchArguments = { batch_id : BatchId; operations : [BatchOperationKind] };
  public type StoreArguments = { key : Key; content_type : Text; content_encoding : Text; content : Blob; sha256 : ?Blob };

  public type AssetEncodingDetails = { content_encoding : Text; sha256 : ?Blob; length : Nat; modified : Int };
  // `headers` is this canister's extension (DFINITY's list has no headers): one query tells a
  // deploy everything it needs to skip unchanged assets. Clients that do not know it ignore it.
  public type AssetDetails = { key : Key; content_type : Text; encodings : [AssetEncodingDetails]; headers : ?[HeaderField] };

  public type HttpRequest = { url : Text; method : Text; body : Blob; headers : [HeaderField]; certificate_version : ?Nat16 };
  public type StreamingCallbackToken = { key : Key; content_encoding : Text; index : Nat; sha256 : ?Blob };
  public type StreamingCallbackHttpResponse = { body : Blob; token : ?StreamingCallbackToken };
  public type StreamingStrategy = {
    #Callback : {
      callback : shared query StreamingCallbackToken -> async ?StreamingCallbackHttpResponse;
      token : StreamingCallbackToken;
    };
  };
  public type HttpResponse = {
    status_code : Nat16;
    headers : [HeaderField];
    body : Blob;
    streaming_strategy : ?StreamingStrategy;
    upgrade : ?Bool;
  };

  // State records (plain data: they persist across upgrades under enhanced orthogonal persistence).
  public type Encoding = { chunks : [Blob]; totalLength : Nat; sha256 : Blob; modified : Int };
  public type Asset = {
    key : Key;
    var contentType : Text;
    var headers : [HeaderField]; // lower-case names, reserved names removed
    var maxAge : ?Nat64;
    encodings : Map.Map<Text, Encoding>;
  };
  public type Chunk = { batchId : BatchId; content : Blob };
  public type Batch = { owner : Principal; var expiresAt : Int; var chunkIds : List.List<ChunkId>; var bytes : Nat };
};
