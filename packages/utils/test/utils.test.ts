import { bytesEqual, CellarError, fromHex, isCellarError, mapConcurrent, toHex } from "@cellar/utils";
import t from "tap";

t.test("CellarError carries code, context and cause", async (t) => {
  const cause = new Error("root cause");
  const err = new CellarError("CELLAR_ERR_TEST_REASON", "it failed", { blob: 3 }, { cause });
  t.equal(err.code, "CELLAR_ERR_TEST_REASON");
  t.equal(err.name, "CellarError");
  t.same(err.context, { blob: 3 });
  t.equal(err.cause, cause);
  t.same(err.toJSON(), { code: "CELLAR_ERR_TEST_REASON", message: "it failed", context: { blob: 3 } });
  class SubError extends CellarError {}
  t.equal(new SubError("X", "y").name, "SubError", "subclasses name themselves");
  t.ok(isCellarError(err));
  t.ok(isCellarError(err, "CELLAR_ERR_TEST_REASON"));
  t.notOk(isCellarError(err, "CELLAR_ERR_OTHER"));
  t.notOk(isCellarError(new Error("plain")));
});

t.test("hex round-trips and rejects malformed input with the field name", async (t) => {
  const bytes = new Uint8Array([0, 1, 0xab, 0xff]);
  t.equal(toHex(bytes), "0x0001abff");
  t.equal(toHex(bytes.subarray(1, 3)), "0x01ab", "respects views");
  t.same(fromHex("0x0001ABff"), bytes);
  t.same(fromHex("0x"), new Uint8Array(0));
  t.same(fromHex("0x0001abff", 4), bytes);
  for (const bad of ["0001", "0x0", "0xzz", 12, null, undefined]) {
    t.throws(() => fromHex(bad, undefined, "root"), { code: "CELLAR_ERR_HEX_INVALID", context: { field: "root" } });
  }
  t.throws(() => fromHex("0x00", 32, "root"), {
    code: "CELLAR_ERR_HEX_INVALID",
    message: "root must be 32 bytes, got 1",
  });
});

t.test("bytesEqual", async (t) => {
  t.ok(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  t.notOk(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  t.notOk(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0])));
});

t.test("mapConcurrent keeps order and never exceeds its limit", async (t) => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapConcurrent([5, 1, 4, 2, 3, 0], 3, async (n, i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, n * 3));
    inFlight--;
    return n * 10 + i;
  });
  t.same(out, [50, 11, 42, 23, 34, 5]);
  t.equal(peak, 3);
  t.same(await mapConcurrent([], 2, async () => 1), []);
});

t.test("mapConcurrent stops starting work after a failure and waits for what is in flight", async (t) => {
  const started: number[] = [];
  let settled = 0;
  await t.rejects(
    mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 20));
      settled++;
      if (n === 1) throw new Error("boom");
      return n;
    }),
    { message: "boom" },
  );
  t.equal(settled, started.length, "every started call settled before the rejection");
  t.ok(started.length < 6, "calls after the failure were not started");
  await t.rejects(
    mapConcurrent([1], 0, async () => 1),
    RangeError,
  );
});
