/// A certified asset canister: the part of DFINITY's asset canister interface
/// (dfinity/sdk docs/design/asset-canister-interface.md) that @dfinity/assets and an HTTP
/// gateway use. Every response of `http_request` is certified: v2 (`http_expr`, with
/// IC-CertificateExpression) when the gateway asks for it, v1 (`http_assets`) otherwise.
///
/// Serving rules: a request path resolves to the asset with that key, else `<path>index.html`
/// for a path ending in `/`, else `<path>.html`, else `<path>/index.html`. A path that resolves to
/// nothing gets `/404.html` with status 404 if it exists, else `/index.html` (single-page apps),
/// else a plain-text 404 — each certified under the root wildcard `<*>`.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import CertifiedData "mo:core/CertifiedData";
import Int "mo:core/Int";
import Iter "mo:core/Iter";
import List "mo:core/List";
import Map "mo:core/Map";
import Nat "mo:core/Nat";
import Nat16 "mo:core/Nat16";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import Runtime "mo:core/Runtime";
import Text "mo:core/Text";
import Time "mo:core/Time";
import Sha256 "Sha256";
import HashTree "HashTree";
import Certification "Certification";
import Limits "Limits";
import Paths "Paths";
import Types "Types";
import Responses "Responses";

shared ({ caller = installer }) persistent actor class Assets() {

  // ---------------------------------------------------------------------------------------
  // Candid types (sdk assets.did, the subset plus the compatible extensions @dfinity/assets accepts)

  public type Key = Types.Key;
  public type HeaderField = Types.HeaderField;
  public type BatchId = Types.BatchId;
  public type ChunkId = Types.ChunkId;
  public type Permission = Types.Permission;
  public type CreateAssetArguments = Types.CreateAssetArguments;
  public type SetAssetContentArguments = Types.SetAssetContentArguments;
  public type UnsetAssetContentArguments = Types.UnsetAssetContentArguments;
  public type DeleteAssetArguments = Types.DeleteAssetArguments;
  public type ClearArguments = Types.ClearArguments;
  public type BatchOperationKind = Types.BatchOperationKind;
  public type CommitBatchArguments = Types.CommitBatchArguments;
  public type StoreArguments = Types.StoreArguments;
  public type AssetEncodingDetails = Types.AssetEncodingDetails;
  public type AssetDetails = Types.AssetDetails;
  public type HttpRequest = Types.HttpRequest;
  public type StreamingCallbackToken = Types.StreamingCallbackToken;
  public type StreamingCallbackHttpResponse = Types.StreamingCallbackHttpResponse;
  public type StreamingStrategy = Types.StreamingStrategy;
  public type HttpResponse = Types.HttpResponse;
  type Encoding = Types.Encoding;
  type Asset = Types.Asset;
  type Chunk = Types.Chunk;
  type Batch = Types.Batch;

  // ---------------------------------------------------------------------------------------
  // State (all of it persists across upgrades: enhanced orthogonal persistence)

  let assets = Map.empty<Key, Asset>();
  let batches = Map.empty<BatchId, Batch>();
  let chunks = Map.empty<ChunkId, Chunk>();
  var nextBatchId : Nat = 1;
  var nextChunkId : Nat = 1;
  var pendingBytes : Nat = 0;
  let permitted = Map.empty<Text, Map.Map<Principal, ()>>(); // permission name → principals
  let tree = HashTree.newNode();

  // ---------------------------------------------------------------------------------------
  // Permissions

  func permissionName(p : Permission) : Text = switch p {
    case (#Commit) "Commit";
    case (#Prepare) "Prepare";
    case (#ManagePermissions) "ManagePermissions";
  };

  func holders(p : Permission) : Map.Map<Principal, ()> {
    switch (Map.get(permitted, Text.compare, permissionName(p))) {
      case (?m) m;
      case null {
        let m = Map.empty<Principal, ()>();
        Map.add(permitted, Text.compare, permissionName(p), m);
        m;
      };
    };
  };

  func has(caller : Principal, p : Permission) : Bool = Map.containsKey(holders(p), Principal.compare, caller);

  func grant(p : Principal, permission : Permission) {
    if (Principal.isAnonymous(p)) Runtime.trap("refusing to grant " # permissionName(permission) # " to the anonymous principal: anyone could use it");
    let m = holders(permission);
    if (Map.size(m) >= Limits.maxPrincipalsPerPermission and not Map.containsKey(m, Principal.compare, p)) {
      Runtime.trap("too many principals hold " # permissionName(permission) # " (limit " # Nat.toText(Limits.maxPrincipalsPerPermission) # "); revoke one first");
    };
    Map.add(m, Principal.compare, p, ());
  };

  func require(caller : Principal, method : Text, accepted : [Permission]) {
    if (Principal.isController(caller)) return;
    for (p in accepted.vals()) if (has(caller, p)) return;
    let names = Text.join(Array.map<Permission, Text>(accepted, permissionName).vals(), " or ");
    Runtime.trap("caller " # Principal.toText(caller) # " may not call " # method # ": it needs the " # names # " permission (a controller or a ManagePermissions holder can grant it with grant_permission)");
  };

  public shared ({ caller }) func grant_permission(args : { to_principal : Principal; permission : Permission }) : async () {
    require(caller, "grant_permission", [#ManagePermissions]);
    grant(args.to_principal, args.permission);
  };

  public shared ({ caller }) func revoke_permission(args : { of_principal : Principal; permission : Permission }) : async () {
    // Anyone may give up their own permission.
    if (caller != args.of_principal) require(caller, "revoke_permission", [#ManagePermissions]);
    Map.remove(holders(args.permission), Principal.compare, args.of_principal);
  };

  public query func list_permitted(args : { permission : Permission }) : async [Principal] {
    Iter.toArray(Map.keys(holders(args.permission)));
  };

  public shared ({ caller }) func authorize(p : Principal) : async () {
    require(caller, "authorize", [#ManagePermissions]);
    grant(p, #Commit);
  };

  public shared ({ caller }) func deauthorize(p : Principal) : async () {
    if (caller != p) require(caller, "deauthorize", [#ManagePermissions]);
    Map.remove(holders(#Commit), Principal.compare, p);
  };

  public query func list_authorized() : async [Principal] {
    Iter.toArray(Map.keys(holders(#Commit)));
  };

  // ---------------------------------------------------------------------------------------
  // Uploads: batches and chunks

  // Batches expire 5 minutes after their last activity (as DFINITY's asset canister); every
  // upload call sweeps expired ones, so an abandoned upload frees its chunks.
  func sweepExpiredBatches() {
    let now = Time.now();
    let expired = List.empty<BatchId>();
    for ((id, batch) in Map.entries(batches)) if (batch.expiresAt <= now) List.add(expired, id);
    for (id in List.values(expired)) dropBatch(id);
  };

  func dropBatch(id : BatchId) {
    switch (Map.take(batches, Nat.compare, id)) {
      case null {};
      case (?batch) {
        for (chunkId in List.values(batch.chunkIds)) {
          switch (Map.take(chunks, Nat.compare, chunkId)) {
            case (?chunk) pendingBytes -= chunk.content.size();
            case null {};
          };
        };
      };
    };
  };

  func openBatch(id : BatchId, method : Text) : Batch {
    switch (Map.get(batches, Nat.compare, id)) {
      case (?b) {
        b.expiresAt := Time.now() + Limits.batchExpiryNanos;
        b;
      };
      case null Runtime.trap(method # ": batch " # Nat.toText(id) # " does not exist (it was committed, or expired after 5 minutes without activity); create a new batch");
    };
  };

  public shared ({ caller }) func create_batch(_ : {}) : async { batch_id : BatchId } {
    require(caller, "create_batch", [#Prepare, #Commit]);
    sweepExpiredBatches();
    var mine = 0;
    for (b in Map.values(batches)) if (b.owner == caller) mine += 1;
    if (mine >= Limits.maxOpenBatchesPerCaller) Runtime.trap("create_batch: " # Principal.toText(caller) # " already has " # Nat.toText(mine) # " open batches (limit " # Nat.toText(Limits.maxOpenBatchesPerCaller) # "); commit them or wait 5 minutes for them to expire");
    if (Map.size(batches) >= Limits.maxOpenBatches) Runtime.trap("create_batch: too many open batches (limit " # Nat.toText(Limits.maxOpenBatches) # "); retry after 5 minutes");
    let id = nextBatchId;
    nextBatchId += 1;
    Map.add(batches, Nat.compare, id, { owner = caller; var expiresAt = Time.now() + Limits.batchExpiryNanos; var chunkIds = List.empty<ChunkId>(); var bytes = 0 });
    { batch_id = id };
  };

  func addChunk(batchId : BatchId, content : Blob) : ChunkId {
    let batch = openBatch(batchId, "create_chunk");
    if (content.size() > Limits.maxChunkBytes) Runtime.trap("create_chunk: chunk of " # Nat.toText(content.size()) # " bytes exceeds the limit of " # Nat.toText(Limits.maxChunkBytes) # " bytes; split it");
    if (List.size(batch.chunkIds) >= Limits.maxChunksPerBatch) Runtime.trap("create_chunk: batch " # Nat.toText(batchId) # " already has " # Nat.toText(Limits.maxChunksPerBatch) # " chunks; commit it and start another");
    if (pendingBytes + content.size() > Limits.maxPendingBytes) Runtime.trap("create_chunk: uncommitted uploads would exceed " # Nat.toText(Limits.maxPendingBytes) # " bytes; commit or let batches expire first");
    let id = nextChunkId;
    nextChunkId += 1;
    Map.add(chunks, Nat.compare, id, { batchId; content });
    List.add(batch.chunkIds, id);
    batch.bytes += content.size();
    pendingBytes += content.size();
    id;
  };

  public shared ({ caller }) func create_chunk(args : { batch_id : BatchId; content : Blob }) : async { chunk_id : ChunkId } {
    require(caller, "create_chunk", [#Prepare, #Commit]);
    sweepExpiredBatches();
    { chunk_id = addChunk(args.batch_id, args.content) };
  };

  public shared ({ caller }) func create_chunks(args : { batch_id : BatchId; content : [Blob] }) : async { chunk_ids : [ChunkId] } {
    require(caller, "create_chunks", [#Prepare, #Commit]);
    sweepExpiredBatches();
    { chunk_ids = Array.map<Blob, ChunkId>(args.content, func(c) = addChunk(args.batch_id, c)) };
  };

  public shared ({ caller }) func commit_batch(args : CommitBatchArguments) : async () {
    require(caller, "commit_batch", [#Commit]);
    sweepExpiredBatches();
    if (args.operations.size() > Limits.maxOperationsPerCommit) Runtime.trap("commit_batch: " # Nat.toText(args.operations.size()) # " operations exceed the limit of " # Nat.toText(Limits.maxOperationsPerCommit) # "; split the upload into several batches");
    // batch_id 0 runs the operations without a batch (the reference canister allows it too).
    if (args.batch_id != 0) ignore openBatch(args.batch_id, "commit_batch");
    let touched = Map.empty<Key, ()>();
    let created = Map.empty<Key, ()>();
    for (op in args.operations.vals()) apply(op, args.batch_id, touched, created);
    if (args.batch_id != 0) dropBatch(args.batch_id);
    recertify(touched);
  };

  // `created`: keys (re)created earlier in this commit. @dfinity/assets sends CreateAsset before
  // every SetAssetContent, so a commit that stores identity and gzip for one key creates it twice;
  // the second CreateAsset must not drop the encoding the first pair just set.
  func apply(op : BatchOperationKind, batchId : BatchId, touched : Map.Map<Key, ()>, created : Map.Map<Key, ()>) {
    switch op {
      case (#CreateAsset(a)) {
        createAsset(a, not Map.containsKey(created, Text.compare, a.key));
        Map.add(created, Text.compare, a.key, ());
        Map.add(touched, Text.compare, a.key, ());
      };
      case (#SetAssetContent(a)) { setAssetContent(a, batchId); Map.add(touched, Text.compare, a.key, ()) };
      case (#UnsetAssetContent(a)) {
        Map.remove(assetOrTrap(a.key, "UnsetAssetContent").encodings, Text.compare, a.content_encoding);
        Map.add(touched, Text.compare, a.key, ());
      };
      case (#DeleteAsset(a)) {
        Map.remove(assets, Text.compare, a.key);
        Map.remove(created, Text.compare, a.key);
        Map.add(touched, Text.compare, a.key, ());
      };
      case (#Clear(_)) {
        for (k in Map.keys(assets)) Map.add(touched, Text.compare, k, ());
        Map.clear(assets);
        Map.clear(created);
      };
    };
  };

  func assetOrTrap(key : Key, what : Text) : Asset {
    switch (Map.get(assets, Text.compare, key)) {
      case (?a) a;
      case null Runtime.trap(what # ": no asset with key " # debug_show key # "; create it first (CreateAsset or store)");
    };
  };

  func checkKey(key : Key) {
    if (not Text.startsWith(key, #char '/')) Runtime.trap("asset key " # debug_show key # " must start with '/'");
    if (Text.encodeUtf8(key).size() > Limits.maxKeyBytes) Runtime.trap("asset key is longer than " # Nat.toText(Limits.maxKeyBytes) # " bytes");
  };

  func cleanHeaders(headers : [HeaderField]) : [HeaderField] {
    if (headers.size() > Limits.maxHeadersPerAsset) Runtime.trap("an asset may carry at most " # Nat.toText(Limits.maxHeadersPerAsset) # " custom headers");
    let out = List.empty<HeaderField>();
    for ((name, value) in headers.vals()) {
      if (name.size() > 128 or value.size() > Limits.maxHeaderValueBytes) Runtime.trap("header " # debug_show name # " is too long (name ≤ 128, value ≤ " # Nat.toText(Limits.maxHeaderValueBytes) # " bytes)");
      let lower = Text.toLower(name);
      if (not Paths.isReservedHeader(lower)) List.add(out, (lower, value));
    };
    List.toArray(out);
  };

  // CreateAsset on an existing key recreates it (type and headers replaced, encodings dropped
  // when `dropEncodings`), so a re-deploy can replace a changed file in one atomic commit;
  // DFINITY's canister rejects it instead.
  func createAsset(a : CreateAssetArguments, dropEncodings : Bool) {
    checkKey(a.key);
    if (a.content_type.size() > 256) Runtime.trap("content_type is longer than 256 bytes");
    let headers = cleanHeaders(switch (a.headers) { case (?h) h; case null [] });
    switch (Map.get(assets, Text.compare, a.key)) {
      case (?existing) {
        existing.contentType := a.content_type;
        existing.headers := headers;
        existing.maxAge := a.max_age;
        if (dropEncodings) Map.clear(existing.encodings);
      };
      case null {
        if (Map.size(assets) >= Limits.maxAssets) Runtime.trap("the canister holds the maximum of " # Nat.toText(Limits.maxAssets) # " assets");
        Map.add(assets, Text.compare, a.key, { key = a.key; var contentType = a.content_type; var headers; var maxAge = a.max_age; encodings = Map.empty<Text, Encoding>() });
      };
    };
  };

  func setAssetContent(a : SetAssetContentArguments, batchId : BatchId) {
    let asset = assetOrTrap(a.key, "SetAssetContent");
    if (a.chunk_ids.size() == 0) Runtime.trap("SetAssetContent for " # a.key # ": needs at least one chunk");
    let parts = Array.map<ChunkId, Blob>(
      a.chunk_ids,
      func(id) {
        switch (Map.take(chunks, Nat.compare, id)) {
          case (?c) {
            if (c.batchId != batchId) Runtime.trap("SetAssetContent for " # a.key # ": chunk " # Nat.toText(id) # " belongs to batch " # Nat.toText(c.batchId) # ", not " # Nat.toText(batchId));
            pendingBytes -= c.content.size();
            c.content;
          };
          case null Runtime.trap("SetAssetContent for " # a.key # ": chunk " # Nat.toText(id) # " does not exist (already used, or its batch expired)");
        };
      },
    );
    putEncoding(asset, a.content_encoding, parts, a.sha256);
  };

  func putEncoding(asset : Asset, encoding : Text, parts : [Blob], expected : ?Blob) {
    if (encoding.size() > 32) Runtime.trap("content_encoding is longer than 32 bytes");
    let digest = Sha256.Digest();
    var total = 0;
    for (p in parts.vals()) {
      digest.writeBlob(p);
      total += p.size();
    };
    let sha = digest.sum();
    switch expected {
      case (?e) if (e != sha) Runtime.trap("sha256 mismatch for " # asset.key # " (" # encoding # "): the content hashes to " # Paths.hex(sha) # " but the caller said " # Paths.hex(e));
      case null {};
    };
    Map.add(asset.encodings, Text.compare, encoding, { chunks = parts; totalLength = total; sha256 = sha; modified = Time.now() });
  };

  public shared ({ caller }) func store(args : StoreArguments) : async () {
    require(caller, "store", [#Commit]);
    checkKey(args.key);
    if (args.content_type.size() > 256) Runtime.trap("content_type is longer than 256 bytes");
    let asset = switch (Map.get(assets, Text.compare, args.key)) {
      case (?a) { a.contentType := args.content_type; a };
      case null {
        createAsset({ key = args.key; content_type = args.content_type; headers = null; max_age = null }, true);
        assetOrTrap(args.key, "store");
      };
    };
    putEncoding(asset, args.content_encoding, [args.content], args.sha256);
    recertify(Map.singleton<Key, ()>(args.key, ()));
  };

  public shared ({ caller }) func create_asset(args : CreateAssetArguments) : async () {
    require(caller, "create_asset", [#Commit]);
    createAsset(args, true);
    recertify(Map.singleton<Key, ()>(args.key, ()));
  };

  public shared ({ caller }) func set_asset_content(args : SetAssetContentArguments) : async () {
    require(caller, "set_asset_content", [#Commit]);
    sweepExpiredBatches();
    // Chunks of any batch may be used here; the batch check applies to commit_batch.
    let batchId = switch (args.chunk_ids.size()) {
      case 0 0;
      case _ switch (Map.get(chunks, Nat.compare, args.chunk_ids[0])) { case (?c) c.batchId; case null 0 };
    };
    setAssetContent(args, batchId);
    recertify(Map.singleton<Key, ()>(args.key, ()));
  };

  public shared ({ caller }) func unset_asset_content(args : UnsetAssetContentArguments) : async () {
    require(caller, "unset_asset_content", [#Commit]);
    Map.remove(assetOrTrap(args.key, "unset_asset_content").encodings, Text.compare, args.content_encoding);
    recertify(Map.singleton<Key, ()>(args.key, ()));
  };

  public shared ({ caller }) func delete_asset(args : DeleteAssetArguments) : async () {
    require(caller, "delete_asset", [#Commit]);
    Map.remove(assets, Text.compare, args.key);
    recertify(Map.singleton<Key, ()>(args.key, ()));
  };

  public shared ({ caller }) func clear(_ : ClearArguments) : async () {
    require(caller, "clear", [#Commit]);
    let touched = Map.empty<Key, ()>();
    for (k in Map.keys(assets)) Map.add(touched, Text.compare, k, ());
    Map.clear(assets);
    for (id in Iter.toArray(Map.keys(batches)).vals()) dropBatch(id);
    recertify(touched);
  };

  public query func upload_status() : async { open_batches : Nat; pending_chunks : Nat; pending_bytes : Nat } {
    { open_batches = Map.size(batches); pending_chunks = Map.size(chunks); pending_bytes = pendingBytes };
  };

  // ---------------------------------------------------------------------------------------
  // Reading back (@dfinity/assets list / get / get_chunk)

  public query func list(args : { start : ?Nat; length : ?Nat }) : async [AssetDetails] {
    let out = List.empty<AssetDetails>();
    let start = switch (args.start) { case (?s) s; case null 0 };
    let length = switch (args.length) { case (?l) l; case null Map.size(assets) };
    var index = 0;
    for (asset in Map.values(assets)) {
      if (index >= start and index < start + length) {
        let encodings = Array.map<(Text, Encoding), AssetEncodingDetails>(
          Map.toArray(asset.encodings),
          func((name, e)) = { content_encoding = name; sha256 = ?e.sha256; length = e.totalLength; modified = e.modified },
        );
        List.add(out, { key = asset.key; content_type = asset.contentType; encodings; headers = ?asset.headers });
      };
      index += 1;
    };
    List.toArray(out);
  };

  public query func get(args : { key : Key; accept_encodings : [Text] }) : async {
    content : Blob;
    content_type : Text;
    content_encoding : Text;
    total_length : Nat;
    sha256 : ?Blob;
  } {
    let asset = assetOrTrap(args.key, "get");
    for (name in args.accept_encodings.vals()) {
      switch (Map.get(asset.encodings, Text.compare, name)) {
        case (?e) return { content = e.chunks[0]; content_type = asset.contentType; content_encoding = name; total_length = e.totalLength; sha256 = ?e.sha256 };
        case null {};
      };
    };
    Runtime.trap("get: asset " # args.key # " has none of the encodings " # debug_show args.accept_encodings);
  };

  public query func get_asset_properties(key : Key) : async { headers : ?[HeaderField]; max_age : ?Nat64 } {
    let asset = assetOrTrap(key, "get_asset_properties");
    { headers = ?asset.headers; max_age = asset.maxAge };
  };

  public query func get_chunk(args : { key : Key; content_encoding : Text; index : Nat; sha256 : ?Blob }) : async { content : Blob } {
    let e = encodingOrTrap(args.key, args.content_encoding, args.sha256);
    if (args.index >= e.chunks.size()) Runtime.trap("get_chunk: " # args.key # " has " # Nat.toText(e.chunks.size()) # " chunks, index " # Nat.toText(args.index) # " is out of range");
    { content = e.chunks[args.index] };
  };

  func encodingOrTrap(key : Key, encoding : Text, sha : ?Blob) : Encoding {
    let asset = assetOrTrap(key, "get_chunk");
    switch (Map.get(asset.encodings, Text.compare, encoding)) {
      case null Runtime.trap(key # " has no " # encoding # " encoding");
      case (?e) {
        switch sha {
          case (?s) if (s != e.sha256) Runtime.trap(key # " (" # encoding # ") changed since it was read: sha256 mismatch");
          case null {};
        };
        e;
      };
    };
  };

  // ---------------------------------------------------------------------------------------
  // Certification

  // The fixed answers (CORS preflight, refused methods) and the entries certifying them, which
  // every certified path carries besides its own responses.
  transient let preflight = Responses.preflight();
  transient let methodNotAllowed = Responses.methodNotAllowed();
  transient let fixedEntries : [(Blob, Blob)] = [preflight.entry, methodNotAllowed.entry];

  func installV2(base : [Blob], entries : [(Blob, Blob)]) {
    if (entries.size() == 0) {
      HashTree.remove(tree, base);
      return;
    };
    ignore HashTree.resetAt(tree, base);
    for ((exprHash, responseHash) in Array.concat(entries, fixedEntries).vals()) {
      HashTree.insert(tree, Array.concat<Blob>(base, [exprHash, "", responseHash]), "");
    };
  };

  func resolve(path : Text) : ?Asset {
    for (candidate in Paths.candidates(path).vals()) {
      switch (Map.get(assets, Text.compare, candidate)) {
        case (?a) if (Map.size(a.encodings) > 0) return ?a;
        case null {};
      };
    };
    null;
  };

  // `memo`: an asset's certified entries by key, computed once per update even when several
  // paths (aliases) resolve to it; hashing its headers (a long CSP) is not free.
  func certifyPath(path : Text, memo : Map.Map<Key, [(Blob, Blob)]>) {
    let v1Path : [Blob] = ["http_assets", Text.encodeUtf8(path)];
    let v2Path = Array.concat<Blob>(Paths.exprSegments(path), ["<$>"]);
    switch (resolve(path)) {
      case (?asset) {
        HashTree.insert(tree, v1Path, Responses.v1Hash(asset));
        let entries = switch (Map.get(memo, Text.compare, asset.key)) {
          case (?e) e;
          case null {
            let e = Responses.certifiedEntries(?asset, 200);
            Map.add(memo, Text.compare, asset.key, e);
            e;
          };
        };
        installV2(v2Path, entries);
      };
      case null {
        HashTree.remove(tree, v1Path);
        HashTree.remove(tree, v2Path);
      };
    };
  };

  type Fallback = { asset : ?Asset; status : Nat16 };

  func fallback() : Fallback {
    switch (resolve("/404.html")) {
      case (?a) return { asset = ?a; status = 404 };
      case null {};
    };
    switch (resolve("/index.html")) {
      case (?a) return { asset = ?a; status = 200 };
      case null {};
    };
    { asset = null; status = 404 };
  };

  func certifyFallback() {
    let f = fallback();
    installV2(["http_expr", "<*>"], Responses.certifiedEntries(f.asset, f.status));
  };

  func recertify(keys : Map.Map<Key, ()>) {
    let paths = Map.empty<Text, ()>();
    var fallbackChanged = false;
    for (key in Map.keys(keys)) {
      for (p in Paths.affectedBy(key).vals()) Map.add(paths, Text.compare, p, ());
      if (key == "/404.html" or key == "/index.html") fallbackChanged := true;
    };
    let memo = Map.empty<Key, [(Blob, Blob)]>();
    for (p in Map.keys(paths)) certifyPath(p, memo);
    if (fallbackChanged) certifyFallback();
    CertifiedData.set(HashTree.hash(tree));
  };

  public query func certified_tree(_ : {}) : async { certificate : Blob; tree : Blob } {
    switch (CertifiedData.getCertificate()) {
      case (?certificate) ({ certificate; tree = HashTree.encode(HashTree.full(tree)) });
      case null Runtime.trap("certified_tree: no data certificate; call it as a query, not an update");
    };
  };

  // ---------------------------------------------------------------------------------------
  // HTTP (http-gateway-protocol-spec.md)

  public query func http_request(request : HttpRequest) : async HttpResponse {
    let path = switch (Paths.requestPath(request.url)) {
      case (?p) p;
      case null return Responses.plain(400, "bad request: the URL path is not valid percent-encoded UTF-8");
    };
    let method = Text.toUpper(request.method);
    let version : Nat16 = switch (request.certificate_version) { case (?v) v; case null 1 };
    let gzip = Paths.acceptsGzip(request.headers);
    // OPTIONS and refused methods get a fixed answer, certified under the same expression path
    // a GET of this URL uses, so a gateway verifies it like any other response.
    let fixed : ?Responses.Fixed = if (method == "GET" or method == "HEAD") null else if (method == "OPTIONS") ?preflight else ?methodNotAllowed;
    switch (resolve(path)) {
      case (?asset) {
        let exprPath = Array.concat<Text>(["http_expr"], Array.concat<Text>(Paths.exprLabels(path), ["<$>"]));
        switch fixed {
          case (?f) return respondFixed(f, version, exprPath, [textPath(exprPath)]);
          case null {};
        };
        let encoding = Responses.chooseEncoding(asset, gzip);
        let v1Paths : [[Blob]] = [["http_assets", Text.encodeUtf8(path)]];
        respond(?asset, encoding, 200, version, exprPath, [textPath(exprPath)], v1Paths);
      };
      case null {
        // The witness proves the exact path and every more specific wildcard absent, and
        // reveals the root wildcard (http-gateway-protocol-spec.md, expression path lookup).
        let labels = Paths.exprLabels(path);
        let proofs = List.empty<[Blob]>();
        List.add(proofs, textPath(Array.concat<Text>(["http_expr"], Array.concat<Text>(labels, ["<$>"]))));
        // The 3.0.3 verifier also asks about `<prefix>/""/<*>` (a directory's own wildcard).
        var k : Int = labels.size();
        while (k >= 0) {
          let prefix = Array.concat<Text>(["http_expr"], Array.sliceToArray<Text>(labels, 0, k));
          List.add(proofs, textPath(Array.concat<Text>(prefix, ["<*>"])));
          List.add(proofs, textPath(Array.concat<Text>(prefix, ["", "<*>"])));
          k -= 1;
        };
        switch fixed {
          case (?f) return respondFixed(f, version, ["http_expr", "<*>"], List.toArray(proofs));
          case null {};
        };
        let f = fallback();
        let encoding = switch (f.asset) { case (?a) Responses.chooseEncoding(a, gzip); case null "identity" };
        let v1Paths : [[Blob]] = [["http_assets", Text.encodeUtf8(path)], ["http_assets", "/index.html"]];
        respond(f.asset, encoding, f.status, version, ["http_expr", "<*>"], List.toArray(proofs), v1Paths);
      };
    };
  };

  // v2 only: v1 certifies one body per path, which these answers cannot share.
  func respondFixed(f : Responses.Fixed, version : Nat16, exprPath : [Text], v2Proofs : [[Blob]]) : HttpResponse {
    let headers = List.fromArray<HeaderField>(f.headers);
    switch (CertifiedData.getCertificate()) {
      case (?certificate) if (version >= 2) {
        List.add(headers, ("ic-certificate", Certification.headerV2(certificate, HashTree.encode(HashTree.witness(tree, v2Proofs)), exprPath)));
      };
      case _ {};
    };
    { status_code = f.status; headers = List.toArray(headers); body = f.body; streaming_strategy = null; upgrade = null };
  };

  func textPath(labels : [Text]) : [Blob] = Array.map<Text, Blob>(labels, Text.encodeUtf8);

  func respond(asset : ?Asset, encoding : Text, status : Nat16, version : Nat16, exprPath : [Text], v2Proofs : [[Blob]], v1Paths : [[Blob]]) : HttpResponse {
    let headers = List.fromArray<HeaderField>(Responses.responseHeaders(asset, encoding));
    switch (CertifiedData.getCertificate()) {
      case (?certificate) {
        let value = if (version >= 2) {
          Certification.headerV2(certificate, HashTree.encode(HashTree.witness(tree, v2Proofs)), exprPath);
        } else {
          Certification.headerV1(certificate, HashTree.encode(HashTree.witness(tree, v1Paths)));
        };
        List.add(headers, ("ic-certificate", value));
      };
      case null {}; // called as an update: nothing to certify with
    };
    switch asset {
      case null ({ status_code = status; headers = List.toArray(headers); body = Responses.notFoundBody; streaming_strategy = null; upgrade = null });
      case (?a) {
        let e = switch (Map.get(a.encodings, Text.compare, encoding)) {
          case (?e) e;
          case null Runtime.trap("unreachable: chosen encoding missing");
        };
        let streaming = if (e.chunks.size() > 1) {
          ?#Callback({ callback = http_request_streaming_callback; token = { key = a.key; content_encoding = encoding; index = 1; sha256 = ?e.sha256 } });
        } else null;
        { status_code = status; headers = List.toArray(headers); body = e.chunks[0]; streaming_strategy = streaming; upgrade = null };
      };
    };
  };

  public query func http_request_streaming_callback(token : StreamingCallbackToken) : async ?StreamingCallbackHttpResponse {
    let e = encodingOrTrap(token.key, token.content_encoding, token.sha256);
    if (token.index >= e.chunks.size()) Runtime.trap("http_request_streaming_callback: " # token.key # " has no chunk " # Nat.toText(token.index));
    let next = if (token.index + 1 < e.chunks.size()) ?{ token with index = token.index + 1 } else null;
    ?{ body = e.chunks[token.index]; token = next };
  };

  // ---------------------------------------------------------------------------------------
  // Install and upgrade (last: the body may only use what is defined above it)

  // The installer may upload, as with DFINITY's asset canister (it grants Commit on install),
  // unless it is the anonymous principal: that would let anyone upload.
  do {
    if (not Principal.isAnonymous(installer)) grant(installer, #Commit);
    certifyFallback();
    CertifiedData.set(HashTree.hash(tree));
  };

  system func postupgrade() {
    // Re-certify every path: a new version may certify more per path (the fixed answers to
    // OPTIONS and refused methods were added after the first deploys).
    let all = Map.empty<Key, ()>();
    for (k in Map.keys(assets)) Map.add(all, Text.compare, k, ());
    recertify(all);
    certifyFallback();
    CertifiedData.set(HashTree.hash(tree));
  };
};
