import { randomBytes } from "node:crypto";
import {
  blobCountFor,
  CodecError,
  frameBatch,
  packBlobs,
  readFrameHeader,
  unframeBody,
  unpackBlobs,
} from "@cellar/codec";
import {
  BYTES_PER_BLOB,
  FRAME_HEADER_BYTES,
  MAX_BATCH_BYTES,
  MAX_BLOBS_PER_BATCH,
  PAYLOAD_BYTES_PER_BLOB,
} from "@cellar/params";
import fc from "fast-check";
import t from "tap";

const unframe = (framed: Uint8Array) => unframeBody(readFrameHeader(framed), framed.subarray(FRAME_HEADER_BYTES));

t.test("frame header layout", async (t) => {
  const framed = frameBatch(new Uint8Array([7, 8, 9]));
  t.same([...framed], [1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 7, 8, 9], "version, compression, reserved, lengths, body");
  t.same(readFrameHeader(framed), { version: 1, compression: "none", bodyLength: 3, payloadLength: 3 });
  t.same(unframe(frameBatch(new Uint8Array(0))), new Uint8Array(0), "the empty batch frames and unframes");
});

t.test("brotli compression is used only when it helps, and is bounded on the way back", async (t) => {
  const text = new TextEncoder().encode("rollup batch ".repeat(5000));
  const framed = frameBatch(text, "brotli");
  const header = readFrameHeader(framed);
  t.equal(header.compression, "brotli");
  t.ok(header.bodyLength < text.length / 10, "repetitive data shrinks");
  t.same(unframe(framed), text);
  const noise = randomBytes(4096);
  t.equal(readFrameHeader(frameBatch(noise, "brotli")).compression, "none", "incompressible data stays plain");
  t.equal(readFrameHeader(frameBatch(new Uint8Array(0), "brotli")).compression, "none");

  // A header that understates the payload length must not let the body expand past it.
  const lying = framed.slice();
  new DataView(lying.buffer).setUint32(8, 100);
  t.throws(() => unframe(lying), { code: "CELLAR_ERR_CODEC_INVALID_FRAME" });
  const garbage = framed.slice();
  garbage.fill(0xee, FRAME_HEADER_BYTES);
  t.throws(() => unframe(garbage), { code: "CELLAR_ERR_CODEC_INVALID_FRAME" });
  t.throws(() => frameBatch(text, "zstd" as never), { code: "CELLAR_ERR_CODEC_INVALID_FRAME" });
});

t.test("malformed frame headers are refused with a typed error", async (t) => {
  const good = frameBatch(new Uint8Array([1, 2, 3]));
  const mutate = (offset: number, value: number) => {
    const copy = good.slice();
    copy[offset] = value;
    return copy;
  };
  const cases: [string, Uint8Array][] = [
    ["too short", good.subarray(0, 5)],
    ["unknown version", mutate(0, 2)],
    ["unknown compression", mutate(1, 9)],
    ["reserved bytes set", mutate(3, 1)],
    ["body length beyond the limit", mutate(4, 0xff)],
    ["plain body and payload lengths differ", mutate(11, 4)],
  ];
  for (const [name, bytes] of cases) {
    t.throws(() => readFrameHeader(bytes), CodecError, name);
    t.throws(() => readFrameHeader(bytes), { code: "CELLAR_ERR_CODEC_INVALID_FRAME" }, name);
  }
  t.throws(() => unframeBody(readFrameHeader(good), new Uint8Array(2)), {
    code: "CELLAR_ERR_CODEC_INVALID_FRAME",
    message: "frame body is truncated",
  });
  t.throws(() => frameBatch({ length: MAX_BATCH_BYTES + 1 } as Uint8Array), { code: "CELLAR_ERR_CODEC_TOO_LARGE" });
});

t.test("packing: 31 bytes per element under a zero top byte", async (t) => {
  const data = Uint8Array.from({ length: 70 }, (_, i) => i + 1);
  const [blob] = packBlobs(data);
  t.ok(blob);
  if (!blob) return;
  t.equal(blob.length, BYTES_PER_BLOB);
  t.equal(blob[0], 0);
  t.same([...blob.subarray(1, 32)], [...data.subarray(0, 31)]);
  t.equal(blob[32], 0);
  t.same([...blob.subarray(33, 64)], [...data.subarray(31, 62)]);
  t.same([...blob.subarray(65, 73)], [...data.subarray(62, 70)]);
  t.ok(
    blob.subarray(73).every((b) => b === 0),
    "zero padding after the data",
  );
});

t.test("blob counts at the boundaries", async (t) => {
  t.equal(blobCountFor(0), 1, "the empty frame still takes one blob");
  t.equal(blobCountFor(PAYLOAD_BYTES_PER_BLOB), 1);
  t.equal(blobCountFor(PAYLOAD_BYTES_PER_BLOB + 1), 2);
  for (const size of [0, 1, 31, 32, PAYLOAD_BYTES_PER_BLOB - 1, PAYLOAD_BYTES_PER_BLOB, PAYLOAD_BYTES_PER_BLOB + 1]) {
    const data = randomBytes(size);
    const blobs = packBlobs(data);
    t.equal(blobs.length, blobCountFor(size), `${size} bytes → ${blobs.length} blobs`);
    t.same(unpackBlobs(blobs, size), new Uint8Array(data), `${size} bytes round-trip`);
  }
  t.throws(() => packBlobs({ length: MAX_BLOBS_PER_BATCH * PAYLOAD_BYTES_PER_BLOB + 1 } as Uint8Array), {
    code: "CELLAR_ERR_CODEC_TOO_LARGE",
  });
});

t.test("property: any bytes pack and unpack exactly", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3 * PAYLOAD_BYTES_PER_BLOB, size: "max" }), (data) => {
      const blobs = packBlobs(data);
      return Buffer.compare(unpackBlobs(blobs, data.length), data) === 0;
    }),
    { numRuns: 60 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200_000 }), fc.constantFrom("none", "brotli" as const), (data, c) => {
      return Buffer.compare(unframe(frameBatch(data, c)), data) === 0;
    }),
    { numRuns: 40 },
  );
  t.pass("properties hold");
});

t.test("unpacking refuses non-canonical packings", async (t) => {
  const blobs = packBlobs(new Uint8Array([1, 2, 3]));
  const blob = blobs[0] as Uint8Array;
  const top = blob.slice();
  top[32 * 7] = 1;
  t.throws(() => unpackBlobs([top], 3), { code: "CELLAR_ERR_CODEC_INVALID_PACKING", context: { element: 7 } });
  const tail = blob.slice();
  tail[10] = 1;
  t.throws(() => unpackBlobs([tail], 3), { code: "CELLAR_ERR_CODEC_INVALID_PACKING" }, "bytes after the data");
  const late = blob.slice();
  late[BYTES_PER_BLOB - 1] = 1;
  t.throws(() => unpackBlobs([late], 3), { code: "CELLAR_ERR_CODEC_INVALID_PACKING" }, "padding far from the data");
  t.throws(() => unpackBlobs([blob.subarray(0, 100)], 3), { code: "CELLAR_ERR_CODEC_INVALID_PACKING" });
  t.throws(() => unpackBlobs([blob], PAYLOAD_BYTES_PER_BLOB + 1), { code: "CELLAR_ERR_CODEC_INVALID_PACKING" });
});
