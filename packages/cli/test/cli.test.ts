// The offline CLI end to end: real files in a temporary directory, the real KZG layer, the
// built binary for the paths a user takes, and every refusal with its exit code and message.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { BYTES_PER_CELL, BYTES_PER_COLUMN_ENTRY } from "@cellar/params";
import { runBin, runCli } from "@cellar/test-utils/cli";
import t from "tap";

const payload = randomBytes(300_000); // three blobs
const shuffled = (n: number) => [...Array(n).keys()].sort(() => Math.random() - 0.5);

t.test("help and usage errors", async (t) => {
  const help = await runCli(["--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /encode \[options\] <file>/);
  const encodeHelp = await runCli(["encode", "--help"]);
  t.equal(encodeHelp.code, 0);
  t.match(encodeHelp.stdout, /Examples:\n\s+\$ cellar encode batch.bin -o batch\//);
  t.match((await runCli(["decode", "--help"])).stdout, /Examples:/);
  t.equal((await runCli(["--version"])).code, 0);
  const unknown = await runCli(["frobnicate"]);
  t.equal(unknown.code, 2, "unknown command is a usage error");
  t.match(unknown.stderr, /unknown command/);
  t.equal((await runCli(["encode", "x.bin"])).code, 2, "missing -o is a usage error");
  t.equal((await runCli(["encode", "x.bin", "-o", "d", "--compress", "zip"])).code, 2, "bad choice");
  t.equal((await runCli(["decode", "d", "-o", "f", "--concurrency", "0"])).code, 2, "bad number");
  const daByte = await runCli(["disperser", "--nodes", "n.json", "--da-layer-byte", "0xce"]);
  t.equal(daByte.code, 2, "a DA-layer byte outside the alt-DA spec's [0, 127) is a usage error");
  t.match(daByte.stderr, /0\.\.126/);
  t.equal((await runCli(["disperser", "--nodes", "n.json", "--rate-limit", "-1"])).code, 2, "a bad limit");
  const chain = await runCli(["node", "--data", "d", "--chain-id", "x"]);
  t.equal(chain.code, 2, "a chain id that is no integer is a usage error");
  t.match(chain.stderr, /must be an integer chain id/);
  // --json: failures are one JSON object on stdout as well.
  for (const argv of [["get", "-o", "out.bin"], ["sample"], ["settle"]]) {
    const bad = await runCli([...argv, "not-a-batch-id", "--json"]);
    t.equal(bad.code, 2, `${argv[0]}: an id is checked before any network call`);
    t.match(JSON.parse(bad.stdout), { error: { code: "CELLAR_ERR_CLI_USAGE", message: /neither a batch CID/ } });
  }
  const getNoFile = await runCli(["get", `0x${"00".repeat(32)}`, "--json"]);
  t.equal(getNoFile.code, 2, "get --json needs -o FILE");
  const usageJson = await runCli(["encode", "x.bin", "--json"]);
  t.equal(usageJson.code, 2);
  t.match(JSON.parse(usageJson.stdout), { error: { code: "CELLAR_ERR_CLI_USAGE", message: /-o/ } });
  const failJson = await runCli(["encode", "does-not-exist.bin", "-o", "out-dir", "--json"]);
  t.equal(failJson.code, 1);
  t.match(JSON.parse(failJson.stdout), { error: { code: "CELLAR_ERR_CLI_INPUT", message: /does-not-exist/ } });
});

t.test("encode writes a manifest and 128 column files; decode rebuilds after losing 64", async (t) => {
  const dir = t.testdir({ "batch.bin": payload });
  const out = join(dir, "enc");
  const enc = await runCli(["encode", join(dir, "batch.bin"), "-o", out, "--json"]);
  t.equal(enc.code, 0, enc.stderr);
  const summary = JSON.parse(enc.stdout);
  t.match(summary, { id: /^bafkrwi/, root: /^0x[0-9a-f]{64}$/, size: 300_000, blobs: 3, columns: 128 });
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  t.match(manifest, { id: summary.id, root: summary.root, size: 300_000 });
  t.equal(manifest.blobs.length, 3);
  t.match(manifest.blobs[0], { commitment: /^0x[0-9a-f]{96}$/, versionedHash: /^0x01[0-9a-f]{62}$/ });
  const files = readdirSync(join(out, "columns"));
  t.equal(files.length, 128);
  t.equal(statSync(join(out, "columns", "127.bin")).size, 3 * BYTES_PER_COLUMN_ENTRY);
  t.same(readdirSync(dir).sort(), ["batch.bin", "enc"], "no staging directory left behind");

  // c-kzg, an independent implementation, accepts every cell and proof the CLI wrote.
  const ckzg = createRequire(import.meta.url)("c-kzg");
  ckzg.loadTrustedSetup(0);
  const commitments: Uint8Array[] = [];
  const indices: number[] = [];
  const cells: Uint8Array[] = [];
  const proofs: Uint8Array[] = [];
  for (let c = 0; c < 128; c++) {
    const file = readFileSync(join(out, "columns", `${c}.bin`));
    for (let b = 0; b < 3; b++) {
      const at = b * BYTES_PER_COLUMN_ENTRY;
      commitments.push(Buffer.from(manifest.blobs[b].commitment.slice(2), "hex"));
      indices.push(c);
      cells.push(file.subarray(at, at + BYTES_PER_CELL));
      proofs.push(file.subarray(at + BYTES_PER_CELL, at + BYTES_PER_COLUMN_ENTRY));
    }
  }
  t.ok(ckzg.verifyCellKzgProofBatch(commitments, indices, cells, proofs), "c-kzg verifies all 384 cells");
  proofs[200] = proofs[201] as Uint8Array;
  t.notOk(ckzg.verifyCellKzgProofBatch(commitments, indices, cells, proofs), "…and notices a swapped proof");

  const gone = shuffled(128).slice(0, 64);
  for (const c of gone) unlinkSync(join(out, "columns", `${c}.bin`));
  const dec = await runCli(["decode", out, "-o", join(dir, "back.bin"), "--json"]);
  t.equal(dec.code, 0, dec.stderr);
  t.ok(readFileSync(join(dir, "back.bin")).equals(payload), "bit-exact after deleting 64 columns");
  const ds = JSON.parse(dec.stdout);
  t.same(
    ds.columnsMissing,
    [...gone].sort((a, b) => a - b),
  );
  t.equal(ds.columnsUsed.length, 64);
  t.equal(
    ds.recovered,
    gone.some((c) => c < 64),
  );

  unlinkSync(join(out, "columns", `${shuffled(128).find((c) => !gone.includes(c))}.bin`));
  const few = await runCli(["decode", out, "-o", join(dir, "never.bin")]);
  t.equal(few.code, 1);
  t.match(
    few.stderr,
    /63 usable column files \(65 missing, 0 damaged\); at least 64 are needed \[CELLAR_ERR_CODEC_NOT_ENOUGH_COLUMNS\]/,
  );
  t.notOk(existsSync(join(dir, "never.bin")), "nothing written");
});

t.test("a cell that fails its proof, a truncated column, a tampered manifest: exit 1, nothing written", async (t) => {
  const dir = t.testdir({ "batch.bin": payload });
  const out = join(dir, "enc");
  t.equal((await runCli(["encode", join(dir, "batch.bin"), "-o", out])).code, 0);
  const target = join(dir, "out.bin");

  const col = join(out, "columns", "7.bin");
  const original = readFileSync(col);
  const flipped = Buffer.from(original);
  flipped[BYTES_PER_COLUMN_ENTRY + 500] = (flipped[BYTES_PER_COLUMN_ENTRY + 500] as number) ^ 0x01;
  writeFileSync(col, flipped);
  const bad = await runCli(["decode", out, "-o", target]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /cellar: cell 7 of blob 1 fails its KZG proof \[CELLAR_ERR_CODEC_INVALID_CELL\]/);
  t.notOk(existsSync(target));
  const skipped = await runCli(["decode", out, "-o", target, "--skip-bad", "--json"]);
  t.equal(skipped.code, 0, skipped.stderr);
  t.same(JSON.parse(skipped.stdout).columnsDropped, [7]);
  t.ok(readFileSync(target).equals(payload), "--skip-bad rebuilds from the good columns");
  unlinkSync(target);
  writeFileSync(col, original);

  truncateSync(join(out, "columns", "9.bin"), BYTES_PER_COLUMN_ENTRY * 2 + 100);
  const truncated = await runCli(["decode", out, "-o", target]);
  t.equal(truncated.code, 1);
  t.match(truncated.stderr, /column 9 is 4292 bytes, expected 6288 .*\[CELLAR_ERR_CODEC_INVALID_COLUMN\]/);
  t.notOk(existsSync(target));
  t.equal((await runCli(["decode", out, "-o", target, "--skip-bad"])).code, 0);
  unlinkSync(target);

  const manifestPath = join(out, "manifest.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, size: manifest.size - 1 }));
  const tampered = await runCli(["decode", out, "-o", target]);
  t.equal(tampered.code, 1);
  t.match(tampered.stderr, /root does not match .*\[CELLAR_ERR_CODEC_ROOT_MISMATCH\]/);
  writeFileSync(manifestPath, "{not json");
  t.match((await runCli(["decode", out, "-o", target])).stderr, /not valid JSON \[CELLAR_ERR_CODEC_INVALID_MANIFEST\]/);
  t.match(
    (await runCli(["decode", dir, "-o", target])).stderr,
    /is .* a batch directory\? \[CELLAR_ERR_CLI_BATCH_DIR\]/,
  );
  t.notOk(existsSync(target));
});

t.test("inputs and outputs: stdin, stdout, empty batches, existing directories, missing files", async (t) => {
  const dir = t.testdir({ "empty.bin": "" });
  const viaStdin = await runCli(["encode", "-", "-o", join(dir, "s"), "--compress", "brotli"], {
    stdin: Buffer.from("hello ".repeat(1000)),
  });
  t.equal(viaStdin.code, 0, viaStdin.stderr);
  t.match(viaStdin.stdout, /encoded 6000 bytes into 1 blob\(s\)/);
  const toStdout = await runCli(["decode", join(dir, "s"), "-o", "-"]);
  t.equal(toStdout.code, 0);
  t.equal(toStdout.stdoutBytes.toString(), "hello ".repeat(1000), "payload on stdout");
  t.match(toStdout.stderr, /decoded 6000 bytes/, "the summary goes to stderr");

  t.equal((await runCli(["encode", join(dir, "empty.bin"), "-o", join(dir, "e")])).code, 0);
  t.equal((await runCli(["decode", join(dir, "e"), "-o", join(dir, "empty.out")])).code, 0);
  t.equal(readFileSync(join(dir, "empty.out")).length, 0, "the empty batch round-trips");

  const again = await runCli(["encode", join(dir, "empty.bin"), "-o", join(dir, "s")]);
  t.equal(again.code, 1);
  t.match(again.stderr, /is not empty \(use --force to replace it\) \[CELLAR_ERR_CLI_OUTPUT_EXISTS\]/);
  t.equal((await runCli(["encode", join(dir, "empty.bin"), "-o", join(dir, "s"), "--force"])).code, 0);
  t.equal(JSON.parse(readFileSync(join(dir, "s", "manifest.json"), "utf8")).size, 0, "--force replaced it");

  const missing = await runCli(["encode", join(dir, "nope.bin"), "-o", join(dir, "n")]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read .*nope\.bin.*\[CELLAR_ERR_CLI_INPUT\]/);
  const verbose = await runCli(["--verbose", "encode", join(dir, "nope.bin"), "-o", join(dir, "n")]);
  t.match(verbose.stderr, /\n\s+at /, "--verbose adds the stack");
  t.notOk(existsSync(join(dir, "n")));
});

t.test("a progress bar on a terminal, none otherwise", async (t) => {
  const dir = t.testdir({ "b.bin": randomBytes(200_000) });
  const tty = await runCli(["encode", join(dir, "b.bin"), "-o", join(dir, "o")], { tty: true });
  t.equal(tty.code, 0);
  t.match(tty.stderr, /encoding \[.*\] \d\/2 blobs/);
  const plain = await runCli(["decode", join(dir, "o"), "-o", join(dir, "b.out")]);
  t.equal(plain.stderr, "", "no bar when stderr is not a terminal");
});

t.test("the built binary: encode from stdin, lose 64 columns, decode to stdout", async (t) => {
  const dir = t.testdir({});
  const enc = await runBin(["encode", "-", "-o", join(dir, "b"), "--json"], { input: payload });
  t.equal(enc.code, 0, enc.stderr);
  t.equal(JSON.parse(enc.stdout).blobs, 3);
  for (const c of shuffled(128).slice(0, 64)) unlinkSync(join(dir, "b", "columns", `${c}.bin`));
  const dec = await runBin(["decode", join(dir, "b"), "-o", "-"]);
  t.equal(dec.code, 0, dec.stderr);
  t.ok(dec.stdoutBytes.equals(payload), "bit-exact through the real binary");
  const usage = await runBin(["decode", "-o", "x.bin"]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /^cellar: missing required argument 'dir'\n\(run with --help for usage\)/);
});
