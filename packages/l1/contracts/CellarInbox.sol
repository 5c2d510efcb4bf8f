// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS} from "./BLS.sol";
import {BLSVerifier} from "./BLSVerifier.sol";
import {CellarRegistry} from "./CellarRegistry.sol";

/// @title Cellar batch inbox
/// @notice A rollup posts a batch's root, blob count and size with a quorum certificate from the
/// registered storage nodes instead of the data. The inbox checks that the root commits to the
/// count and size, that the certificate's reference block is recent, that its signers hold the
/// quorum of the stake active at that block (the registry's checkpoint) and the aggregate BLS
/// signature (hash to G2 included), then records the batch. It can then check a KZG opening of any
/// blob of a recorded batch through the EIP-4844 point-evaluation precompile.
contract CellarInbox is BLSVerifier {
    using BLS for BLS.G1;

    address internal constant POINT_EVALUATION = address(0x0a);
    /// The most blobs a batch may span (a membership proof is then at most 10 hashes).
    uint256 public constant MAX_BLOBS = 1024;
    bytes16 internal constant ATTEST_TAG = "CELLAR-ATTEST-v2";

    CellarRegistry public immutable registry;
    /// A certificate needs signedStake * quorumDenominator >= snapshotStake * quorumNumerator.
    uint256 public immutable quorumNumerator;
    uint256 public immutable quorumDenominator;
    /// A certificate's reference block must be at most this many blocks old when it is posted.
    uint256 public immutable referenceWindow;

    struct Batch {
        uint16 blobCount;
        uint64 size;
        uint64 blockNumber;
        uint64 referenceBlock;
        uint16 signers;
    }

    /// A certificate as `postBatch` takes it. `signerBitmap`: bit i set when registry node i signed;
    /// `signature`: the aggregate as a 192-byte uncompressed G2 point; `nonSignerKeys`: the
    /// 96-byte keys of the snapshot's nodes that did not sign, in index order; `checkpointHint`:
    /// the registry checkpoint of `referenceBlock` (`registry.checkpointAt`).
    struct Certificate {
        uint256 referenceBlock;
        uint256 checkpointHint;
        uint256 signerBitmap;
        bytes signature;
        bytes nonSignerKeys;
    }

    mapping(bytes32 => Batch) private _batches;

    event BatchPosted(
        bytes32 indexed root,
        uint256 blobCount,
        uint256 size,
        uint256 referenceBlock,
        uint256 signerBitmap,
        address indexed poster
    );

    error InvalidQuorum();
    error InvalidWindow(uint256 window, uint256 unbondingBlocks);
    error BatchAlreadyRecorded(bytes32 root);
    error InvalidBlobCount(uint256 blobCount);
    error InvalidSize(uint256 size);
    error RootMismatch(bytes32 root, bytes32 committed);
    error FutureReference(uint256 referenceBlock);
    error CertificateExpired(uint256 referenceBlock, uint256 oldestAccepted);
    error QuorumNotReached(uint256 signedStake, uint256 requiredStake);
    error MalformedSignature();
    error InvalidSignature();
    error UnknownBatch(bytes32 root);
    error BlobIndexOutOfRange(uint256 blobIndex, uint256 blobCount);
    error InvalidProofLength(uint256 expected, uint256 actual);
    error NotInBatch();
    error InvalidOpening();

    constructor(CellarRegistry registry_, uint256 quorumNumerator_, uint256 quorumDenominator_, uint256 window_) {
        if (quorumNumerator_ == 0 || quorumDenominator_ == 0 || quorumNumerator_ > quorumDenominator_) {
            revert InvalidQuorum();
        }
        // A node that left cannot have withdrawn (nor its slot been reused) while a certificate
        // naming a snapshot it was in can still be posted.
        uint256 unbonding = registry_.unbondingBlocks();
        if (window_ == 0 || window_ > unbonding) revert InvalidWindow(window_, unbonding);
        registry = registry_;
        quorumNumerator = quorumNumerator_;
        quorumDenominator = quorumDenominator_;
        referenceWindow = window_;
    }

    /// The 32 bytes every node signs for `root` at `referenceBlock`: sha256("CELLAR-ATTEST-v2" ||
    /// uint256 chainId || inbox address || root || uint256 referenceBlock).
    function attestationMessage(bytes32 root, uint256 referenceBlock) public view returns (bytes32) {
        return sha256(abi.encodePacked(ATTEST_TAG, block.chainid, address(this), root, referenceBlock));
    }

    /// The stake a certificate made at `referenceBlock` needs.
    function requiredStake(uint256 referenceBlock) external view returns (uint256) {
        (,, uint256 stake) = registry.checkpointAt(referenceBlock);
        return _quorumOf(stake);
    }

    /// Records a certified batch: `root` must be keccak256(abi.encode(blobsRoot, blobCount, size)).
    function postBatch(
        bytes32 root,
        bytes32 blobsRoot,
        uint256 blobCount,
        uint256 size,
        Certificate calldata certificate
    ) external {
        if (_batches[root].blockNumber != 0) revert BatchAlreadyRecorded(root);
        if (blobCount == 0 || blobCount > MAX_BLOBS) revert InvalidBlobCount(blobCount);
        if (size > type(uint64).max) revert InvalidSize(size);
        bytes32 committed = keccak256(abi.encode(blobsRoot, blobCount, size));
        if (committed != root) revert RootMismatch(root, committed);
        uint256 ref = certificate.referenceBlock;
        if (ref >= block.number) revert FutureReference(ref);
        if (block.number - ref > referenceWindow) {
            revert CertificateExpired(ref, block.number - referenceWindow);
        }

        (BLS.G1 memory aggregate, uint256 signedStake, uint256 snapshotStake) = registry.signersAt(
            ref, certificate.checkpointHint, certificate.signerBitmap, certificate.nonSignerKeys
        );
        if (signedStake * quorumDenominator < snapshotStake * quorumNumerator || signedStake == 0) {
            revert QuorumNotReached(signedStake, _quorumOf(snapshotStake));
        }
        // Unreachable for keys with a proof of possession; refused rather than trusted.
        if (aggregate.isInfinity()) revert InvalidSignature();

        // Inline rather than through try/catch self-calls: a malformed point is refused by the
        // flag check or makes the pairing precompile fail, both MalformedSignature.
        bytes calldata raw = certificate.signature;
        if (raw.length != 192 || uint8(raw[0]) & 0xe0 != 0) revert MalformedSignature();
        (bool success, bool valid) = BLS.tryVerify(
            aggregate, BLS.hashToG2(abi.encodePacked(attestationMessage(root, ref))), BLS.parseG2(raw)
        );
        if (!success) revert MalformedSignature();
        if (!valid) revert InvalidSignature();

        uint256 signers;
        for (uint256 b = certificate.signerBitmap; b != 0; b &= b - 1) signers++;
        _batches[root] = Batch({
            blobCount: uint16(blobCount),
            size: uint64(size),
            blockNumber: uint64(block.number),
            referenceBlock: uint64(ref),
            signers: uint16(signers)
        });
        emit BatchPosted(root, blobCount, size, ref, certificate.signerBitmap, msg.sender);
    }

    function isRecorded(bytes32 root) external view returns (bool) {
        return _batches[root].blockNumber != 0;
    }

    /// A recorded batch's blob count, size, the block that recorded it, its certificate's
    /// reference block and how many nodes signed.
    function batchOf(bytes32 root)
        external
        view
        returns (uint256 blobCount, uint256 size, uint256 blockNumber, uint256 referenceBlock, uint256 signers)
    {
        Batch memory b = _batches[root];
        if (b.blockNumber == 0) revert UnknownBatch(root);
        return (b.blobCount, b.size, b.blockNumber, b.referenceBlock, b.signers);
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

    function _quorumOf(uint256 stake) private view returns (uint256) {
        return (stake * quorumNumerator + quorumDenominator - 1) / quorumDenominator;
    }
}
