/// A record in stable memory, field by field, as the stable-memory-region store keeps its records
/// (and the serialization-formats demo measures its "binary" format):
///   [id : Nat64][score : Nat32][title length : Nat16][title][body length : Nat16][body]
/// All integers little-endian, as Region stores them; Records.encodedSize bytes in all.
import Region "mo:core/Region";
import Nat16 "mo:core/Nat16";
import Nat64 "mo:core/Nat64";
import Text "mo:core/Text";
import Records "Records";

module {
  /// Writes `record` at `offset` of `region` (which must be large enough); returns the bytes written.
  public func store(region : Region.Region, offset : Nat64, record : Records.Record) : Nat64 {
    let title = Text.encodeUtf8(record.title);
    let body = Text.encodeUtf8(record.body);
    Region.storeNat64(region, offset, record.id);
    Region.storeNat32(region, offset + 8, record.score);
    Region.storeNat16(region, offset + 12, Nat16.fromNat(title.size()));
    Region.storeBlob(region, offset + 14, title);
    let bodyAt = offset + 14 + Nat64.fromNat(title.size());
    Region.storeNat16(region, bodyAt, Nat16.fromNat(body.size()));
    Region.storeBlob(region, bodyAt + 2, body);
    bodyAt + 2 + Nat64.fromNat(body.size()) - offset
  };

  /// The record at `offset` of `region`, its title and body decoded by `text` (the caller says what
  /// bytes that are not UTF-8 become), and the bytes it takes.
  public func load(region : Region.Region, offset : Nat64, text : Blob -> Text) : (Records.Record, Nat64) {
    let id = Region.loadNat64(region, offset);
    let score = Region.loadNat32(region, offset + 8);
    let titleSize = Nat16.toNat(Region.loadNat16(region, offset + 12));
    let title = text(Region.loadBlob(region, offset + 14, titleSize));
    let bodyAt = offset + 14 + Nat64.fromNat(titleSize);
    let bodySize = Nat16.toNat(Region.loadNat16(region, bodyAt));
    let body = text(Region.loadBlob(region, bodyAt + 2, bodySize));
    ({ id; title; body; score }, bodyAt + 2 + Nat64.fromNat(bodySize) - offset)
  };
};
