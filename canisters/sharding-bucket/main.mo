/// One bucket of the sharding demo: a plain key-value map holding the keys the
/// index routed here. Created by sharding-index (this file is an actor class);
/// only that index may write, anyone may read directly once the index has said
/// which bucket holds a key (`locate`).
import Map "mo:core/Map";
import Text "mo:core/Text";
import Time "mo:core/Time";
import Principal "mo:core/Principal";
import Nat "mo:core/Nat";
import RuntimeStats "../lib/RuntimeStats";
import Sharding "../lib/Sharding";

persistent actor class Bucket(init : { bucket : Nat; index : Principal }) = this {
  type Stored = { value : Text; owner : Principal; updatedAt : Int };

  let entries = Map.empty<Text, Stored>();

  func self() : Principal = Principal.fromActor(this);

  func fromIndex(caller : Principal) : Bool = caller == init.index;

  func notIndex() : Sharding.PutResult = #err(#notAuthorized("only the index canister " # Principal.toText(init.index) # " writes to its buckets; call put on the index"));

  /// Stores or replaces `key`. Index only; the index has already checked ownership and caps.
  public shared ({ caller }) func put(key : Text, value : Text, owner : Principal) : async Sharding.PutResult {
    if (not fromIndex(caller)) return notIndex();
    switch (Sharding.checkKey(key)) { case (?error) return #err(error); case null {} };
    switch (Sharding.checkValue(value)) { case (?error) return #err(error); case null {} };
    let created = not Map.containsKey(entries, Text.compare, key);
    if (created and Map.size(entries) >= Sharding.bucketHardLimit) {
      return #err(#limitReached("bucket " # Nat.toText(init.bucket) # " is at its hard limit of " # Nat.toText(Sharding.bucketHardLimit) # " keys"));
    };
    Map.add(entries, Text.compare, key, { value; owner; updatedAt = Time.now() });
    #ok({ bucket = init.bucket; bucketId = self(); created })
  };

  public shared ({ caller }) func remove(key : Text) : async Sharding.RemoveResult {
    if (not fromIndex(caller)) return #err(#notAuthorized("only the index canister " # Principal.toText(init.index) # " removes keys from its buckets"));
    if (not Map.containsKey(entries, Text.compare, key)) return #err(#notFound("bucket " # Nat.toText(init.bucket) # " holds no key \"" # key # "\""));
    Map.remove(entries, Text.compare, key);
    #ok({ bucket = init.bucket; bucketId = self() })
  };

  /// Direct read: the client asked the index where `key` lives and now asks the bucket itself.
  public query func get(key : Text) : async Sharding.EntryResult {
    switch (Sharding.checkKey(key)) { case (?error) return #err(error); case null {} };
    switch (Map.get(entries, Text.compare, key)) {
      case (?stored) #ok({ key; value = stored.value; owner = stored.owner; updatedAt = stored.updatedAt; bucket = init.bucket; bucketId = self() });
      case null #err(#notFound("bucket " # Nat.toText(init.bucket) # " holds no key \"" # key # "\""));
    }
  };

  public query func stats() : async Sharding.BucketStats {
    { bucket = init.bucket; bucketId = self(); keys = Map.size(entries); memory = RuntimeStats.memory() }
  };

  /// Only the index writes, so only small ingress is ever legitimate.
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 4096 };
};
