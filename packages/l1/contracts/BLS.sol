// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title BLS12-381 signatures on chain through the EIP-2537 precompiles
/// @notice Minimal-pubkey-size BLS (keys in G1, signatures in G2) with the ciphersuite
/// `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, the one blst signs with.
/// Points use the EIP-2537 encoding: every base-field element is 64 bytes (16 zero bytes, then 48
/// big-endian), a G1 point is x || y (128 bytes), a G2 point is x.c0 || x.c1 || y.c0 || y.c1
/// (256 bytes). The all-zero encoding is the point at infinity.
library BLS {
    address internal constant MODEXP = address(0x05);
    address internal constant G1_ADD = address(0x0b);
    address internal constant G2_ADD = address(0x0d);
    address internal constant PAIRING_CHECK = address(0x0f);
    address internal constant MAP_FP2_TO_G2 = address(0x11);

    /// The hash-to-curve domain separation tag of the ciphersuite (RFC 9380, draft-irtf-cfrg-bls-signature).
    bytes internal constant DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    /// The base-field modulus p, as 48 big-endian bytes and as a (high 128 bits, low 256 bits) pair.
    bytes internal constant P =
        hex"1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// (p - 1) / 2: a y coordinate above it is the "larger" root (the compressed form's sign bit).
    uint256 internal constant HALF_P_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 internal constant HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// The negated G1 generator, -g1 (x, p - y).
    uint256 internal constant NEG_G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 internal constant NEG_G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 internal constant NEG_G1_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 internal constant NEG_G1_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    /// A G1 point in the words of its EIP-2537 encoding (each *Hi below 2^128).
    struct G1 {
        uint256 xHi;
        uint256 xLo;
        uint256 yHi;
        uint256 yLo;
    }

    error MalformedPoint();
    error PrecompileFailed(address precompile);

    /// Parses a 96-byte uncompressed G1 point as blst serializes it (x || y, 48 bytes each, the
    /// top three bits of the first byte being flags). Reverts MalformedPoint on a compressed or
    /// infinity flag; the coordinates are checked against p and the curve by the first precompile
    /// that uses the point.
    function parseG1(bytes calldata raw) internal pure returns (G1 memory p) {
        if (raw.length != 96 || uint8(raw[0]) & 0xe0 != 0) revert MalformedPoint();
        p.xHi = uint128(bytes16(raw[0:16]));
        p.xLo = uint256(bytes32(raw[16:48]));
        p.yHi = uint128(bytes16(raw[48:64]));
        p.yLo = uint256(bytes32(raw[64:96]));
    }

    /// Parses a 192-byte uncompressed G2 point as blst serializes it (x.c1 || x.c0 || y.c1 || y.c0,
    /// 48 bytes each, flags in the top three bits) into its EIP-2537 encoding.
    function parseG2(bytes calldata raw) internal pure returns (bytes memory) {
        if (raw.length != 192 || uint8(raw[0]) & 0xe0 != 0) revert MalformedPoint();
        return abi.encodePacked(
            bytes16(0), raw[48:96], bytes16(0), raw[0:48], bytes16(0), raw[144:192], bytes16(0), raw[96:144]
        );
    }

    function isInfinity(G1 memory p) internal pure returns (bool) {
        return p.xHi | p.xLo | p.yHi | p.yLo == 0;
    }

    function encode(G1 memory p) internal pure returns (bytes memory) {
        return abi.encode(p.xHi, p.xLo, p.yHi, p.yLo);
    }

    /// The 48-byte compressed form (x with the compression flag, and the sign flag when y is the
    /// larger root): the bytes blst's `PublicKey.toBytes()` gives and a node id hashes.
    function compress(G1 memory p) internal pure returns (bytes memory out) {
        out = abi.encodePacked(bytes16(uint128(p.xHi)), bytes32(p.xLo));
        bool larger = p.yHi > HALF_P_HI || (p.yHi == HALF_P_HI && p.yLo > HALF_P_LO);
        out[0] = bytes1(uint8(out[0]) | 0x80 | (larger ? 0x20 : 0));
    }

    /// -p = (x, p - y); infinity stays infinity.
    function negate(G1 memory p) internal pure returns (G1 memory n) {
        if (isInfinity(p)) return p;
        n.xHi = p.xHi;
        n.xLo = p.xLo;
        unchecked {
            n.yLo = P_LO - p.yLo;
            n.yHi = P_HI - p.yHi - (p.yLo > P_LO ? 1 : 0);
        }
    }

    /// a + b through G1ADD; reverts PrecompileFailed when either is not on the curve.
    function add(G1 memory a, G1 memory b) internal view returns (G1 memory sum) {
        bytes memory out = _call(G1_ADD, abi.encodePacked(encode(a), encode(b)), 128);
        (sum.xHi, sum.xLo, sum.yHi, sum.yLo) = abi.decode(out, (uint256, uint256, uint256, uint256));
    }

    /// Whether the point is well encoded and on the curve (G1ADD with infinity checks exactly that).
    function isOnCurve(G1 memory p) internal view returns (bool ok) {
        (ok,) = address(G1_ADD).staticcall(abi.encodePacked(encode(p), new bytes(128)));
    }

    /// hash_to_curve onto G2 (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_) with the ciphersuite DST.
    function hashToG2(bytes memory message) internal view returns (bytes memory) {
        bytes memory uniform = expandMessageXmd(message);
        bytes memory q0 = _call(MAP_FP2_TO_G2, abi.encodePacked(_fieldElement(uniform, 0), _fieldElement(uniform, 1)), 256);
        bytes memory q1 = _call(MAP_FP2_TO_G2, abi.encodePacked(_fieldElement(uniform, 2), _fieldElement(uniform, 3)), 256);
        return _call(G2_ADD, abi.encodePacked(q0, q1), 256);
    }

    /// expand_message_xmd with SHA-256 to 256 bytes: four 64-byte strings, one per base-field
    /// element of the two Fp2 elements hash_to_field needs.
    function expandMessageXmd(bytes memory message) internal pure returns (bytes memory out) {
        bytes memory dstPrime = abi.encodePacked(DST, uint8(DST.length));
        bytes32 b0 = sha256(abi.encodePacked(new bytes(64), message, uint16(256), uint8(0), dstPrime));
        bytes32 bi = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        out = new bytes(256);
        assembly {
            mstore(add(out, 32), bi)
        }
        for (uint256 i = 2; i <= 8; i++) {
            bi = sha256(abi.encodePacked(b0 ^ bi, uint8(i), dstPrime));
            assembly {
                mstore(add(out, mul(i, 32)), bi)
            }
        }
    }

    /// Element i of hash_to_field: the 64-byte string i of `uniform` reduced mod p (MODEXP with
    /// exponent 1), in the 64-byte EIP-2537 encoding.
    function _fieldElement(bytes memory uniform, uint256 i) private view returns (bytes memory) {
        bytes memory chunk = new bytes(64);
        assembly {
            mstore(add(chunk, 32), mload(add(uniform, add(32, mul(i, 64)))))
            mstore(add(chunk, 64), mload(add(uniform, add(64, mul(i, 64)))))
        }
        bytes memory reduced = _call(MODEXP, abi.encodePacked(uint256(64), uint256(1), uint256(48), chunk, uint8(1), P), 48);
        return abi.encodePacked(bytes16(0), reduced);
    }

    /// e(pk, h) == e(g1, sig), as e(pk, h) · e(-g1, sig) == 1. The precompile checks that every
    /// point is on its curve and in its prime-order subgroup; a point that is not makes the call
    /// fail, which reverts PrecompileFailed.
    function verify(G1 memory publicKey, bytes memory hashedMessage, bytes memory signature) internal view returns (bool) {
        bytes memory out = _call(
            PAIRING_CHECK,
            abi.encodePacked(
                encode(publicKey),
                hashedMessage,
                abi.encode(NEG_G1_X_HI, NEG_G1_X_LO, NEG_G1_Y_HI, NEG_G1_Y_LO),
                signature
            ),
            32
        );
        return abi.decode(out, (uint256)) == 1;
    }

    /// `verify` without reverting: `success` is false when the pairing precompile refuses a point
    /// (off its curve or outside its subgroup), `valid` whether the signature holds.
    function tryVerify(G1 memory publicKey, bytes memory hashedMessage, bytes memory signature)
        internal
        view
        returns (bool success, bool valid)
    {
        bytes memory input = abi.encodePacked(
            encode(publicKey), hashedMessage, abi.encode(NEG_G1_X_HI, NEG_G1_X_LO, NEG_G1_Y_HI, NEG_G1_Y_LO), signature
        );
        uint256 result;
        assembly {
            success := staticcall(gas(), 0x0f, add(input, 32), mload(input), 0, 32)
            success := and(success, eq(returndatasize(), 32))
            result := mload(0)
        }
        valid = success && result == 1;
    }

    function _call(address precompile, bytes memory input, uint256 outLength) private view returns (bytes memory out) {
        out = new bytes(outLength);
        bool ok;
        assembly {
            ok := staticcall(gas(), precompile, add(input, 32), mload(input), add(out, 32), outLength)
            ok := and(ok, eq(returndatasize(), outLength))
        }
        if (!ok) revert PrecompileFailed(precompile);
    }
}
