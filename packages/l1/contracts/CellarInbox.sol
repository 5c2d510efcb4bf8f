// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS} from "./BLS.sol";
import {BLSVerifier} from "./BLSVerifier.sol";
import {CellarRegistry} from "./CellarRegistry.sol";

/// @title Cellar batch inbox
/// @notice A rollup posts a batch's root, blob count and size with a quorum certificate from the
/// registered storage nodes instead of the data. The inbox checks the certificate on chain (quorum
/// of the active nodes, aggregate BLS signature over the attestation message, hash to G2 included)
/// and records the batch. It can then check a KZG opening of any blob of a recorded batch through
/// the EIP-4844 point-evaluation precompile.
contract CellarInbox is BLSVerifier {
    using BLS for BLS.G1;

    address internal constant POINT_EVALUATION = address(0x0a);
    /// The most blobs a batch may span (a membership proof is then at most 10 hashes).
    uint256 public constant MAX_BLOBS = 1024;
    bytes16 internal constant ATTEST_TAG = "CELLAR-ATTEST-v1";

    CellarRegistry public immutable registry;
    /// A certificate needs signers * quorumDenominator >= activeNodes * quorumNumerator.
    uint256 public immutable quorumNumerator;
    uint256 public immutable quorumDenominator;

    struct Batch {
        uint64 blobCount;
        uint64 size;
        uint64 blockNumber;
        uint32 signers;
    }

    mapping(bytes32 => Batch) private _batches;

    event BatchPosted(bytes32 indexed root, uint256 blobCount, uint256 size, bytes signerBitmap, address indexed poster);

    error InvalidQuorum();
    error BatchAlreadyRecorded(bytes32 root);
    error InvalidBlobCount(uint256 blobCount);
    error InvalidSize(uint256 size);
    error InvalidBitmap();
    error UnknownSigner(uint256 index);
    error QuorumNotReached(uint256 signers, uint256 required);
    error MalformedSignature();
    error InvalidSignature();
    error UnknownBatch(bytes32 root);
    error BlobIndexOutOfRange(uint256 blobIndex, uint256 blobCount);
    error InvalidProofLength(uint256 expected, uint256 actual);
    error NotInBatch();
    error InvalidOpening();

    constructor(CellarRegistry registry_, uint256 quorumNumerator_, uint256 quorumDenominator_) {
        if (quorumNumerator_ == 0 || quorumDenominator_ == 0 || quorumNumerator_ > quorumDenominator_) {
            revert InvalidQuorum();
        }
        registry = registry_;
        quorumNumerator = quorumNumerator_;
        quorumDenominator = quorumDenominator_;
    }

    /// The 32 bytes every node signs for `root`:
    /// sha256("CELLAR-ATTEST-v1" || uint256 chainId || inbox address || root).
    function attestationMessage(bytes32 root) public view returns (bytes32) {
        return sha256(abi.encodePacked(ATTEST_TAG, block.chainid, address(this), root));
    }

    /// Signers needed with the current active set.
    function quorumSize() public view returns (uint256) {
        (,, uint256 count,) = registry.signingState();
        return _quorumOf(count);
    }

    /// Records a certified batch. `signerBitmap`: bit i (byte i >> 3, mask 1 << (i & 7)) set when
    /// registry node i signed; `aggregateSignature`: the signers' aggregate BLS signature as a
    /// 192-byte uncompressed G2 point.
    function postBatch(
        bytes32 root,
        uint256 blobCount,
        uint256 size,
        bytes calldata signerBitmap,
        bytes calldata aggregateSignature
    ) external {
        if (_batches[root].blockNumber != 0) revert BatchAlreadyRecorded(root);
        if (blobCount == 0 || blobCount > MAX_BLOBS) revert InvalidBlobCount(blobCount);
        if (size > type(uint64).max) revert InvalidSize(size);
        if (signerBitmap.length == 0 || signerBitmap.length > 32) revert InvalidBitmap();

        uint256 signers;
        for (uint256 k = 0; k < signerBitmap.length; k++) {
            signers |= uint256(uint8(signerBitmap[k])) << (8 * k);
        }
        (BLS.G1 memory aggregate, uint256 active, uint256 activeCount,) = registry.signingState();
        uint256 stray = signers & ~active;
        if (stray != 0) revert UnknownSigner(_lowestBit(stray));
        uint256 signerCount = _popcount(signers);
        uint256 required = _quorumOf(activeCount);
        if (signerCount < required) revert QuorumNotReached(signerCount, required);

        // The signers' key: the active sum minus the active nodes that did not sign.
        uint256 absent = active & ~signers;
        for (uint256 i = 0; absent != 0; i++) {
            if (absent & 1 != 0) aggregate = aggregate.add(registry.publicKeyOf(i).negate());
            absent >>= 1;
        }
        // Unreachable for keys with a proof of possession; refused rather than trusted.
        if (aggregate.isInfinity()) revert InvalidSignature();

        bytes memory signature;
        try this.parseSignature(aggregateSignature) returns (bytes memory parsed) {
            signature = parsed;
        } catch {
            revert MalformedSignature();
        }
        try this.checkPairing(aggregate, abi.encodePacked(attestationMessage(root)), signature) returns (bool ok) {
            if (!ok) revert InvalidSignature();
        } catch {
            revert MalformedSignature();
        }

        _batches[root] = Batch({
            blobCount: uint64(blobCount),
            size: uint64(size),
            blockNumber: uint64(block.number),
            signers: uint32(signerCount)
        });
        emit BatchPosted(root, blobCount, size, signerBitmap, msg.sender);
    }

    function isRecorded(bytes32 root) external view returns (bool) {
        return _batches[root].blockNumber != 0;
    }

    /// A recorded batch's blob count, size, the block that recorded it and how many nodes signed.
    function batchOf(bytes32 root)
        external
        view
        returns (uint256 blobCount, uint256 size, uint256 blockNumber, uint256 signers)
    {
        Batch memory b = _batches[root];
        if (b.blockNumber == 0) revert UnknownBatch(root);
        return (b.blobCount, b.size, b.blockNumber, b.signers);
    }

    /// Checks that blob `blobIndex` of the recorded batch `root` has KZG commitment `commitment`
    /// (its versioned hash is the Merkle leaf; `merkleProof` the siblings from leaf to blobs root)
    /// and that the blob's polynomial evaluates to `y` at `z` (`proof`: the KZG opening proof),
    /// through the point-evaluation precompile. Reverts with the reason when anything fails.
    function verifyOpening(
        bytes32 root,
        uint256 blobIndex,
        bytes32[] calldata merkleProof,
        bytes calldata commitment,
        bytes32 z,
        bytes32 y,
        bytes calldata proof
    ) external view returns (bool) {
        Batch memory b = _batches[root];
        if (b.blockNumber == 0) revert UnknownBatch(root);
        if (blobIndex >= b.blobCount) revert BlobIndexOutOfRange(blobIndex, b.blobCount);
        uint256 depth = 0;
        while ((uint256(1) << depth) < b.blobCount) depth++;
        if (merkleProof.length != depth) revert InvalidProofLength(depth, merkleProof.length);
        if (commitment.length != 48 || proof.length != 48) revert InvalidOpening();

        bytes32 versionedHash = (sha256(commitment) & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(0x01) << 248);
        bytes32 node = versionedHash;
        uint256 position = blobIndex;
        for (uint256 i = 0; i < depth; i++) {
            node = position & 1 == 1 ? keccak256(abi.encode(merkleProof[i], node)) : keccak256(abi.encode(node, merkleProof[i]));
            position >>= 1;
        }
        if (keccak256(abi.encode(node, uint256(b.blobCount), uint256(b.size))) != root) revert NotInBatch();

        (bool ok, bytes memory out) =
            POINT_EVALUATION.staticcall(abi.encodePacked(versionedHash, z, y, commitment, proof));
        if (!ok || out.length != 64) revert InvalidOpening();
        return true;
    }

    function _quorumOf(uint256 count) private view returns (uint256) {
        uint256 q = (count * quorumNumerator + quorumDenominator - 1) / quorumDenominator;
        return q == 0 ? 1 : q;
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        while (x != 0) {
            x &= x - 1;
            n++;
        }
    }

    function _lowestBit(uint256 x) private pure returns (uint256 i) {
        while (x & 1 == 0) {
            x >>= 1;
            i++;
        }
    }
}
