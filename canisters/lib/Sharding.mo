/// Types and input rules shared by the sharding index and its buckets.
import Nat "mo:core/Nat";
import Text "mo:core/Text";
import Errors "Errors";
import RuntimeStats "RuntimeStats";

module {
  public let maxKeyBytes = 64;
  public let maxValueBytes = 1024;
  /// A bucket's own ceiling, whatever the index's configured capacity: a
  /// defence in depth should the index ever route too much to one bucket.
  public let bucketHardLimit = 10_000;

  public type Entry = {
    key : Text;
    value : Text;
    owner : Principal;
    /// Nanoseconds since 1970-01-01 of the last write.
    updatedAt : Int;
    bucket : Nat;
    bucketId : Principal;
  };

  public type EntryResult = { #ok : Entry; #err : Errors.Error };

  public type PutReport = { bucket : Nat; bucketId : Principal; created : Bool };
  public type PutResult = { #ok : PutReport; #err : Errors.Error };
  public type RemoveResult = { #ok : { bucket : Nat; bucketId : Principal }; #err : Errors.Error };

  public type BucketStats = {
    bucket : Nat;
    bucketId : Principal;
    keys : Nat;
    memory : RuntimeStats.MemoryStats;
  };

  public func checkKey(key : Text) : ?Errors.Error {
    let bytes = Text.encodeUtf8(key).size();
    if (bytes == 0) return ?#invalidArgument("the key is empty");
    if (bytes > maxKeyBytes) return ?#invalidArgument("the key is " # Nat.toText(bytes) # " bytes; keys are at most " # Nat.toText(maxKeyBytes) # " bytes");
    null
  };

  public func checkValue(value : Text) : ?Errors.Error {
    let bytes = Text.encodeUtf8(value).size();
    if (bytes > maxValueBytes) return ?#invalidArgument("the value is " # Nat.toText(bytes) # " bytes; values are at most " # Nat.toText(maxValueBytes) # " bytes");
    null
  };
};
