// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS} from "./BLS.sol";
import {BLSVerifier} from "./BLSVerifier.sol";

/// @title Cellar storage-node and disperser registry
/// @notice Storage nodes register a BLS public key (with a proof of possession bound to the
/// operator, the chain and this registry) and a URL, and bond at least `minimumStake` wei. A
/// node's index is its slot and its bit in a certificate's signer bitmap. A node that leaves stays
/// in its slot (inactive, never counted again) through the unbonding delay; once its operator has
/// withdrawn the bond, the slot may be taken by a new node. Every change of the active set writes
/// a checkpoint (active bitmap, total stake, sum of the active keys) for its block, so a
/// certificate is judged against the snapshot at its reference block, whatever happened since.
/// Dispersers register the same way (a BLS key, a bound proof of possession, a bond).
contract CellarRegistry is BLSVerifier {
    using BLS for BLS.G1;

    /// Slots in the registry (a signer bitmap is one word).
    uint256 public constant MAX_NODES = 256;
    uint256 public constant MAX_DISPERSERS = 64;
    /// Longest URL a node may register, in bytes.
    uint256 public constant MAX_URL_BYTES = 256;
    /// Proof-of-possession messages: tag || operator (20 bytes) || uint256 chain id || registry
    /// (20 bytes) || compressed public key (48 bytes).
    bytes public constant POP_TAG = "CELLAR-POP-v2";
    bytes public constant DISPERSER_POP_TAG = "CELLAR-DISPERSER-POP-v1";

    /// The least bond, in wei, of a node or a disperser.
    uint256 public immutable minimumStake;
    /// Blocks between leaving and withdrawing the bond.
    uint256 public immutable unbondingBlocks;
    /// The deployer: the only account that can change the allow-list.
    address public immutable owner;
    /// When set, only allow-listed operators may register (on top of the bond).
    bool public immutable permissioned;

    struct Node {
        /// The public key: x and y high halves packed (x << 128 | y), then the low words.
        uint256 keyHi;
        uint256 xLo;
        uint256 yLo;
        address operator;
        uint64 registeredBlock;
        /// 0 while active; the block the node left in otherwise.
        uint64 leftBlock;
        bool withdrawn;
        uint96 stake;
        bytes32 nodeId;
        string url;
    }

    /// A checkpoint: the block whose end state it records, and the contract whose code holds the
    /// snapshot (`_snapshot`): reading it in `postBatch` costs one cold account access and a
    /// code copy instead of a cold storage read per node.
    struct Checkpoint {
        uint64 blockNumber;
        address data;
    }

    /// What `nodes()` and `nodesAt()` return: the public key in blst's 96-byte uncompressed form.
    struct NodeView {
        uint256 index;
        bytes publicKey;
        bytes32 nodeId;
        string url;
        address operator;
        bool active;
        uint256 stake;
        uint256 registeredBlock;
        uint256 leftBlock;
        bool withdrawn;
    }

    struct Disperser {
        bytes publicKey;
        address operator;
        uint64 leftBlock;
        bool withdrawn;
        uint96 stake;
        string url;
    }

    struct DisperserView {
        uint256 index;
        bytes publicKey;
        string url;
        address operator;
        bool active;
        uint256 stake;
    }

    Node[] private _nodes;
    /// Snapshot code layout: 0x00 (STOP, so it never runs), then 32-byte words: active bitmap,
    /// total stake, the active keys' sum (xHi, xLo, yHi, yLo), then one entry per slot:
    /// bytes20(keccak256(96-byte key)) << 96 | stake.
    uint256 internal constant SNAPSHOT_HEADER = 1 + 6 * 32;
    /// Slots whose bond was withdrawn, free for a new node (a stack).
    uint256[] private _free;
    Checkpoint[] private _checkpoints;
    Disperser[] private _dispersers;
    /// Node id (sha256 of the compressed key) → used, for ever (a key never comes back).
    mapping(bytes32 => bool) public isRegistered;
    mapping(bytes32 => bool) public isDisperserKey;
    mapping(address => bool) public allowed;
    uint256 public activeBitmap;
    uint256 public activeCount;
    uint256 public totalStake;
    /// The sum of the active nodes' keys (infinity when none).
    BLS.G1 private _aggregate;

    event NodeRegistered(uint256 indexed index, bytes32 indexed nodeId, address indexed operator, string url, uint256 stake);
    event NodeLeft(uint256 indexed index, bytes32 indexed nodeId, uint256 withdrawableBlock);
    event NodeWithdrawn(uint256 indexed index, address indexed operator, uint256 stake);
    event NodeUrlChanged(uint256 indexed index, string url);
    event DisperserRegistered(uint256 indexed index, address indexed operator, bytes publicKey, string url, uint256 stake);
    event DisperserLeft(uint256 indexed index, uint256 withdrawableBlock);
    event DisperserWithdrawn(uint256 indexed index, address indexed operator, uint256 stake);
    event AllowListChanged(address indexed operator, bool allowed);

    error InfinityKey();
    error MalformedKey();
    error KeyAlreadyRegistered(bytes32 nodeId);
    error InvalidProofOfPossession();
    error RegistryFull(uint256 maxNodes);
    error InvalidUrl();
    error UnknownNode(uint256 index);
    error NodeNotActive(uint256 index);
    error NotOperator(uint256 index, address operator);
    error StakeTooLow(uint256 stake, uint256 minimum);
    error StakeTooHigh(uint256 stake);
    error NotAllowed(address operator);
    error NotOwner();
    error StillActive(uint256 index);
    error StillUnbonding(uint256 index, uint256 withdrawableBlock);
    error AlreadyWithdrawn(uint256 index);
    error TransferFailed();
    error NoSnapshot(uint256 referenceBlock);
    error BadCheckpointHint(uint256 hint);
    error UnknownSigner(uint256 index);
    error NonSignerKeysLength(uint256 expected, uint256 actual);
    error NonSignerKeyMismatch(uint256 index);
    error UnknownDisperser(uint256 index);
    error InvalidConfig();

    constructor(uint256 minimumStake_, uint256 unbondingBlocks_, bool permissioned_) {
        if (minimumStake_ == 0 || minimumStake_ >= 1 << 96 || unbondingBlocks_ == 0) revert InvalidConfig();
        minimumStake = minimumStake_;
        unbondingBlocks = unbondingBlocks_;
        owner = msg.sender;
        permissioned = permissioned_;
    }

    // ---------------------------------------------------------------- admission

    function setAllowed(address operator, bool allowed_) external {
        if (msg.sender != owner) revert NotOwner();
        allowed[operator] = allowed_;
        emit AllowListChanged(operator, allowed_);
    }

    /// The message a proof of possession signs: tag || operator || chain id || registry || key.
    function popMessage(bytes memory tag, address operator, bytes memory compressedKey) public view returns (bytes memory) {
        return abi.encodePacked(tag, operator, block.chainid, address(this), compressedKey);
    }

    /// Registers a node and bonds `msg.value` (at least `minimumStake`). `publicKey`: 96-byte
    /// uncompressed G1 point; `proofOfPossession`: 192-byte uncompressed G2 signature over
    /// `popMessage(POP_TAG, msg.sender, compressedKey)`. The caller becomes the node's operator.
    /// Takes a withdrawn node's slot when there is one, else the next slot.
    function register(bytes calldata publicKey, string calldata url, bytes calldata proofOfPossession)
        external
        payable
        returns (uint256 index)
    {
        _admit();
        _checkUrl(url);
        bool reuse = _free.length > 0;
        if (!reuse && _nodes.length >= MAX_NODES) revert RegistryFull(MAX_NODES);
        (BLS.G1 memory key, bytes memory compressed) = _checkKey(publicKey, POP_TAG, proofOfPossession);
        bytes32 nodeId = sha256(compressed);
        if (isRegistered[nodeId]) revert KeyAlreadyRegistered(nodeId);
        isRegistered[nodeId] = true;

        Node memory n = Node({
            keyHi: (key.xHi << 128) | key.yHi,
            xLo: key.xLo,
            yLo: key.yLo,
            operator: msg.sender,
            registeredBlock: uint64(block.number),
            leftBlock: 0,
            withdrawn: false,
            stake: uint96(msg.value),
            nodeId: nodeId,
            url: url
        });
        if (reuse) {
            index = _free[_free.length - 1];
            _free.pop();
            _nodes[index] = n;
        } else {
            index = _nodes.length;
            _nodes.push(n);
        }
        activeBitmap |= 1 << index;
        activeCount += 1;
        totalStake += msg.value;
        _aggregate = _aggregate.isInfinity() ? key : _aggregate.add(key);
        _checkpoint(index, (uint256(keccak256(publicKey)) >> 96 << 96) | msg.value);
        emit NodeRegistered(index, nodeId, msg.sender, url, msg.value);
    }

    /// Takes node `index` out of the active set (it never counts again) and starts its unbonding.
    function deregister(uint256 index) external {
        Node storage n = _operated(index);
        if (n.leftBlock != 0) revert NodeNotActive(index);
        n.leftBlock = uint64(block.number);
        activeBitmap &= ~(1 << index);
        activeCount -= 1;
        totalStake -= n.stake;
        _aggregate = activeCount == 0 ? BLS.G1(0, 0, 0, 0) : _aggregate.add(publicKeyOf(index).negate());
        _checkpoint(type(uint256).max, 0);
        emit NodeLeft(index, n.nodeId, block.number + unbondingBlocks);
    }

    /// Pays a node's bond back to its operator once the unbonding delay has passed; frees the slot.
    function withdraw(uint256 index) external {
        Node storage n = _operated(index);
        if (n.leftBlock == 0) revert StillActive(index);
        if (n.withdrawn) revert AlreadyWithdrawn(index);
        uint256 due = n.leftBlock + unbondingBlocks;
        if (block.number < due) revert StillUnbonding(index, due);
        n.withdrawn = true;
        uint256 stake = n.stake;
        _free.push(index);
        emit NodeWithdrawn(index, msg.sender, stake);
        _pay(msg.sender, stake);
    }

    function setUrl(uint256 index, string calldata url) external {
        _checkUrl(url);
        Node storage n = _operated(index);
        if (n.leftBlock != 0) revert NodeNotActive(index);
        n.url = url;
        emit NodeUrlChanged(index, url);
    }

    // ---------------------------------------------------------------- dispersers

    /// Registers a disperser key (96-byte uncompressed G1, proof of possession over
    /// `popMessage(DISPERSER_POP_TAG, msg.sender, compressedKey)`) and bonds `msg.value`.
    function registerDisperser(bytes calldata publicKey, string calldata url, bytes calldata proofOfPossession)
        external
        payable
        returns (uint256 index)
    {
        _admit();
        _checkUrl(url);
        if (_dispersers.length >= MAX_DISPERSERS) revert RegistryFull(MAX_DISPERSERS);
        (, bytes memory compressed) = _checkKey(publicKey, DISPERSER_POP_TAG, proofOfPossession);
        bytes32 id = sha256(compressed);
        if (isDisperserKey[id]) revert KeyAlreadyRegistered(id);
        isDisperserKey[id] = true;
        index = _dispersers.length;
        _dispersers.push(Disperser(compressed, msg.sender, 0, false, uint96(msg.value), url));
        emit DisperserRegistered(index, msg.sender, compressed, url, msg.value);
    }

    function deregisterDisperser(uint256 index) external {
        Disperser storage d = _operatedDisperser(index);
        if (d.leftBlock != 0) revert NodeNotActive(index);
        d.leftBlock = uint64(block.number);
        emit DisperserLeft(index, block.number + unbondingBlocks);
    }

    function withdrawDisperser(uint256 index) external {
        Disperser storage d = _operatedDisperser(index);
        if (d.leftBlock == 0) revert StillActive(index);
        if (d.withdrawn) revert AlreadyWithdrawn(index);
        uint256 due = d.leftBlock + unbondingBlocks;
        if (block.number < due) revert StillUnbonding(index, due);
        d.withdrawn = true;
        emit DisperserWithdrawn(index, msg.sender, d.stake);
        _pay(msg.sender, d.stake);
    }

    /// Every disperser in registration order (the key is the 48-byte compressed form).
    function dispersers() external view returns (DisperserView[] memory out) {
        out = new DisperserView[](_dispersers.length);
        for (uint256 i = 0; i < _dispersers.length; i++) {
            Disperser storage d = _dispersers[i];
            out[i] = DisperserView(i, d.publicKey, d.url, d.operator, d.leftBlock == 0, d.stake);
        }
    }

    // ---------------------------------------------------------------- reads

    /// Slots used so far (the next new index when no slot is free).
    function nodeCount() external view returns (uint256) {
        return _nodes.length;
    }

    function checkpointCount() external view returns (uint256) {
        return _checkpoints.length;
    }

    /// Every slot in order, left nodes included (marked inactive).
    function nodes() external view returns (NodeView[] memory out) {
        out = new NodeView[](_nodes.length);
        for (uint256 i = 0; i < _nodes.length; i++) {
            out[i] = nodeAt(i);
        }
    }

    /// The nodes active at the end of block `referenceBlock` (a slot reused since is not shown
    /// with its former node: slots are freed only after the unbonding delay).
    function nodesAt(uint256 referenceBlock) external view returns (NodeView[] memory out) {
        (, Checkpoint storage cp) = _find(referenceBlock);
        uint256 bitmap = _snapshotWord(cp.data, 0);
        uint256 count;
        for (uint256 b = bitmap; b != 0; b &= b - 1) count++;
        out = new NodeView[](count);
        uint256 k;
        for (uint256 i = 0; bitmap >> i != 0; i++) {
            if ((bitmap >> i) & 1 == 1) out[k++] = nodeAt(i);
        }
    }

    function nodeAt(uint256 index) public view returns (NodeView memory) {
        if (index >= _nodes.length) revert UnknownNode(index);
        Node storage n = _nodes[index];
        BLS.G1 memory key = publicKeyOf(index);
        return NodeView({
            index: index,
            publicKey: abi.encodePacked(bytes16(uint128(key.xHi)), bytes32(key.xLo), bytes16(uint128(key.yHi)), bytes32(key.yLo)),
            nodeId: n.nodeId,
            url: n.url,
            operator: n.operator,
            active: n.leftBlock == 0,
            stake: n.stake,
            registeredBlock: n.registeredBlock,
            leftBlock: n.leftBlock,
            withdrawn: n.withdrawn
        });
    }

    function publicKeyOf(uint256 index) public view returns (BLS.G1 memory key) {
        if (index >= _nodes.length) revert UnknownNode(index);
        Node storage n = _nodes[index];
        uint256 hi = n.keyHi;
        key = BLS.G1(hi >> 128, n.xLo, hi & type(uint128).max, n.yLo);
    }

    /// The checkpoint that holds at the end of `referenceBlock`: its index (the hint
    /// `signersAt` takes), active bitmap and total stake.
    function checkpointAt(uint256 referenceBlock)
        external
        view
        returns (uint256 index, uint256 bitmap, uint256 stake)
    {
        Checkpoint storage cp;
        (index, cp) = _find(referenceBlock);
        return (index, _snapshotWord(cp.data, 0), _snapshotWord(cp.data, 1));
    }

    /// What the inbox needs to check a certificate made at `referenceBlock`: the signers'
    /// aggregate key, their stake and the snapshot's total stake. `hint`: the checkpoint index
    /// (`checkpointAt`); `nonSignerKeys`: the 96-byte keys of the snapshot's nodes that are not in
    /// `signers`, in index order, each checked against the key hash stored for its slot.
    function signersAt(uint256 referenceBlock, uint256 hint, uint256 signers, bytes calldata nonSignerKeys)
        external
        view
        returns (BLS.G1 memory aggregate, uint256 signedStake, uint256 snapshotStake)
    {
        if (hint >= _checkpoints.length) revert BadCheckpointHint(hint);
        Checkpoint storage cp = _checkpoints[hint];
        if (cp.blockNumber > referenceBlock) revert BadCheckpointHint(hint);
        if (hint + 1 < _checkpoints.length && _checkpoints[hint + 1].blockNumber <= referenceBlock) {
            revert BadCheckpointHint(hint);
        }
        // The snapshot: header and every slot's entry, copied from its contract's code at once.
        address data = cp.data;
        uint256 snap;
        assembly {
            let size := extcodesize(data)
            snap := mload(0x40)
            mstore(0x40, add(snap, add(size, 32)))
            extcodecopy(data, snap, 0, size)
            snap := add(snap, 1)
        }
        uint256 bitmap;
        assembly {
            bitmap := mload(snap)
            snapshotStake := mload(add(snap, 32))
        }
        uint256 stray = signers & ~bitmap;
        if (stray != 0) revert UnknownSigner(_lowestBit(stray));
        signedStake = snapshotStake;

        uint256 absent = bitmap & ~signers;
        uint256 expected;
        for (uint256 b = absent; b != 0; b &= b - 1) expected++;
        if (nonSignerKeys.length != expected * 96) revert NonSignerKeysLength(expected * 96, nonSignerKeys.length);
        // The running sum and the next negated key sit side by side in one buffer (EIP-2537
        // encoding), so each subtraction is one G1ADD into the buffer's first half: no allocation.
        uint256 buf;
        assembly {
            buf := mload(0x40)
            mstore(0x40, add(buf, 352))
            mstore(buf, mload(add(snap, 64)))
            mstore(add(buf, 32), mload(add(snap, 96)))
            mstore(add(buf, 64), mload(add(snap, 128)))
            mstore(add(buf, 96), mload(add(snap, 160)))
        }
        uint256 offset;
        for (uint256 i = 0; absent != 0; i++) {
            if (absent & 1 == 1) {
                bool ok;
                uint256 start;
                uint256 entry;
                assembly {
                    entry := mload(add(snap, add(192, mul(i, 32))))
                    start := add(nonSignerKeys.offset, offset)
                    calldatacopy(add(buf, 256), start, 96)
                    ok := and(
                        eq(shr(96, keccak256(add(buf, 256), 96)), shr(96, entry)),
                        iszero(and(byte(0, mload(add(buf, 256))), 0xe0))
                    )
                }
                if (!ok) revert NonSignerKeyMismatch(i);
                signedStake -= entry & type(uint96).max;
                assembly {
                    // x: 16 zero bytes then 48 bytes; y negated: p - y over (hi 128 bits, lo 256 bits).
                    mstore(add(buf, 128), 0)
                    calldatacopy(add(buf, 144), start, 48)
                    mstore(add(buf, 192), 0)
                    calldatacopy(add(buf, 208), add(start, 48), 48)
                    let yHi := mload(add(buf, 192))
                    let yLo := mload(add(buf, 224))
                    if or(yHi, yLo) {
                        let pLo := 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab
                        let pHi := 0x1a0111ea397fe69a4b1ba7b6434bacd7
                        mstore(add(buf, 224), sub(pLo, yLo))
                        mstore(add(buf, 192), sub(sub(pHi, yHi), gt(yLo, pLo)))
                    }
                    ok := staticcall(gas(), 0x0b, buf, 256, buf, 128)
                }
                if (!ok) revert NonSignerKeyMismatch(i);
                offset += 96;
            }
            absent >>= 1;
        }
        assembly {
            mstore(aggregate, mload(buf))
            mstore(add(aggregate, 32), mload(add(buf, 32)))
            mstore(add(aggregate, 64), mload(add(buf, 64)))
            mstore(add(aggregate, 96), mload(add(buf, 96)))
        }
    }

    // ---------------------------------------------------------------- internals

    function _admit() private view {
        if (permissioned && !allowed[msg.sender]) revert NotAllowed(msg.sender);
        if (msg.value < minimumStake) revert StakeTooLow(msg.value, minimumStake);
        if (msg.value >= 1 << 96) revert StakeTooHigh(msg.value);
    }

    /// Parses and checks a key and its proof of possession (bound to msg.sender, chain, registry).
    function _checkKey(bytes calldata publicKey, bytes memory tag, bytes calldata proofOfPossession)
        private
        view
        returns (BLS.G1 memory key, bytes memory compressed)
    {
        if (publicKey.length != 96) revert MalformedKey();
        if (uint8(publicKey[0]) & 0x40 != 0) revert InfinityKey();
        if (uint8(publicKey[0]) & 0xe0 != 0) revert MalformedKey();
        key = BLS.parseG1(publicKey);
        if (key.isInfinity()) revert InfinityKey();
        if (!key.isOnCurve()) revert MalformedKey();
        compressed = key.compress();
        bytes memory signature;
        try this.parseSignature(proofOfPossession) returns (bytes memory parsed) {
            signature = parsed;
        } catch {
            revert InvalidProofOfPossession();
        }
        // The pairing precompile fails on a key or signature outside its prime-order subgroup.
        try this.checkPairing(key, popMessage(tag, msg.sender, compressed), signature) returns (bool ok) {
            if (!ok) revert InvalidProofOfPossession();
        } catch {
            revert InvalidProofOfPossession();
        }
    }

    /// Records the active set as of this block (several changes in one block share a checkpoint):
    /// a new snapshot contract, the previous snapshot's code with the header rewritten and, when
    /// a node registered, its slot's entry set.
    function _checkpoint(uint256 changed, uint256 entry) private {
        uint256 n = _checkpoints.length;
        uint256 size = SNAPSHOT_HEADER + _nodes.length * 32;
        bytes memory code = new bytes(size);
        if (n > 0) {
            address prev = _checkpoints[n - 1].data;
            assembly {
                extcodecopy(prev, add(code, 32), 0, extcodesize(prev))
            }
        }
        uint256 bitmap = activeBitmap;
        uint256 stake = totalStake;
        BLS.G1 memory agg = _aggregate;
        assembly {
            let at := add(code, 33)
            mstore8(add(code, 32), 0)
            mstore(at, bitmap)
            mstore(add(at, 32), stake)
            mstore(add(at, 64), mload(agg))
            mstore(add(at, 96), mload(add(agg, 32)))
            mstore(add(at, 128), mload(add(agg, 64)))
            mstore(add(at, 160), mload(add(agg, 96)))
        }
        if (changed != type(uint256).max) {
            assembly {
                mstore(add(add(code, 225), mul(changed, 32)), entry)
            }
        }
        // Init code: copy the body that follows it to memory and return it as the runtime code.
        bytes memory init = abi.encodePacked(hex"61", uint16(size), hex"80600a3d393df3", code);
        address data;
        assembly {
            data := create(0, add(init, 32), mload(init))
        }
        if (data == address(0)) revert InvalidConfig();
        Checkpoint memory cp = Checkpoint({blockNumber: uint64(block.number), data: data});
        if (n > 0 && _checkpoints[n - 1].blockNumber == block.number) _checkpoints[n - 1] = cp;
        else _checkpoints.push(cp);
    }

    /// Word `k` of a snapshot's header (0: bitmap, 1: total stake).
    function _snapshotWord(address data, uint256 k) private view returns (uint256 word) {
        assembly {
            let m := mload(0x40)
            extcodecopy(data, m, add(1, mul(k, 32)), 32)
            word := mload(m)
        }
    }

    /// The last checkpoint at or before `referenceBlock` (binary search).
    function _find(uint256 referenceBlock) private view returns (uint256 index, Checkpoint storage cp) {
        uint256 lo = 0;
        uint256 hi = _checkpoints.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_checkpoints[mid].blockNumber <= referenceBlock) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) revert NoSnapshot(referenceBlock);
        index = lo - 1;
        cp = _checkpoints[index];
    }

    function _pay(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    function _operated(uint256 index) private view returns (Node storage n) {
        if (index >= _nodes.length) revert UnknownNode(index);
        n = _nodes[index];
        if (n.withdrawn) revert AlreadyWithdrawn(index);
        if (n.operator != msg.sender) revert NotOperator(index, n.operator);
    }

    function _operatedDisperser(uint256 index) private view returns (Disperser storage d) {
        if (index >= _dispersers.length) revert UnknownDisperser(index);
        d = _dispersers[index];
        if (d.operator != msg.sender) revert NotOperator(index, d.operator);
    }

    function _lowestBit(uint256 x) private pure returns (uint256 i) {
        while (x & 1 == 0) {
            x >>= 1;
            i++;
        }
    }

    function _checkUrl(string calldata url) private pure {
        bytes calldata b = bytes(url);
        if (b.length == 0 || b.length > MAX_URL_BYTES) revert InvalidUrl();
        // http:// or https://, then no spaces or control characters.
        bool http = b.length > 7 && bytes7(b[0:7]) == "http://";
        bool https = b.length > 8 && bytes8(b[0:8]) == "https://";
        if (!http && !https) revert InvalidUrl();
        for (uint256 i = 0; i < b.length; i++) {
            if (uint8(b[i]) <= 0x20 || uint8(b[i]) == 0x7f) revert InvalidUrl();
        }
    }
}
