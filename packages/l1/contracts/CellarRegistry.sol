// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS} from "./BLS.sol";
import {BLSVerifier} from "./BLSVerifier.sol";

/// @title Cellar storage-node registry
/// @notice Storage nodes register a BLS public key (checked on chain with a proof of possession)
/// and a URL. A node's index is its position in registration order and its bit in a certificate's
/// signer bitmap; indexes never shift: a node that leaves keeps its slot, marked inactive. The
/// registry keeps the sum of the active keys, so the inbox checks a certificate by subtracting the
/// few non-signers instead of adding every signer.
contract CellarRegistry is BLSVerifier {
    using BLS for BLS.G1;

    /// Slots in the registry (a signer bitmap is at most 32 bytes). Slots of nodes that left are
    /// not reused, so indexes in recorded certificates keep their meaning.
    uint256 public constant MAX_NODES = 256;
    /// Longest URL a node may register, in bytes.
    uint256 public constant MAX_URL_BYTES = 256;
    /// The proof-of-possession message is `"CELLAR-POP-v1" || compressed public key`.
    bytes public constant POP_TAG = "CELLAR-POP-v1";

    struct Node {
        /// The public key: x and y high halves packed (x << 128 | y), then the low words.
        uint256 keyHi;
        uint256 xLo;
        uint256 yLo;
        address operator;
        bool active;
        bytes32 nodeId;
        string url;
    }

    /// What `nodes()` returns: the public key in blst's 96-byte uncompressed form.
    struct NodeView {
        uint256 index;
        bytes publicKey;
        bytes32 nodeId;
        string url;
        address operator;
        bool active;
    }

    Node[] private _nodes;
    /// Node id (sha256 of the compressed key) → registered, even after it left.
    mapping(bytes32 => bool) public isRegistered;
    /// Bit i set when node i is active.
    uint256 public activeBitmap;
    uint256 public activeCount;
    /// The sum of the active nodes' keys (infinity when none).
    BLS.G1 private _aggregate;

    event NodeRegistered(uint256 indexed index, bytes32 indexed nodeId, address indexed operator, string url);
    event NodeLeft(uint256 indexed index, bytes32 indexed nodeId);
    event NodeUrlChanged(uint256 indexed index, string url);

    error InfinityKey();
    error MalformedKey();
    error KeyAlreadyRegistered(bytes32 nodeId);
    error InvalidProofOfPossession();
    error RegistryFull(uint256 maxNodes);
    error InvalidUrl();
    error UnknownNode(uint256 index);
    error NodeNotActive(uint256 index);
    error NotOperator(uint256 index, address operator);

    /// Registers a node. `publicKey`: 96-byte uncompressed G1 point; `proofOfPossession`: 192-byte
    /// uncompressed G2 signature over `"CELLAR-POP-v1" || compressedKey`. The caller becomes the
    /// node's operator (the only account that can change its URL or take it out).
    function register(bytes calldata publicKey, string calldata url, bytes calldata proofOfPossession)
        external
        returns (uint256 index)
    {
        index = _nodes.length;
        if (index >= MAX_NODES) revert RegistryFull(MAX_NODES);
        _checkUrl(url);
        if (publicKey.length != 96) revert MalformedKey();
        if (uint8(publicKey[0]) & 0x40 != 0) revert InfinityKey();
        BLS.G1 memory key = _parseKey(publicKey);
        if (key.isInfinity()) revert InfinityKey();
        if (!key.isOnCurve()) revert MalformedKey();
        bytes memory compressed = key.compress();
        bytes32 nodeId = sha256(compressed);
        if (isRegistered[nodeId]) revert KeyAlreadyRegistered(nodeId);
        bytes memory signature;
        try this.parseSignature(proofOfPossession) returns (bytes memory parsed) {
            signature = parsed;
        } catch {
            revert InvalidProofOfPossession();
        }
        // The pairing precompile fails on a key or signature outside its prime-order subgroup.
        try this.checkPairing(key, abi.encodePacked(POP_TAG, compressed), signature) returns (bool ok) {
            if (!ok) revert InvalidProofOfPossession();
        } catch {
            revert InvalidProofOfPossession();
        }

        isRegistered[nodeId] = true;
        _nodes.push(
            Node({
                keyHi: (key.xHi << 128) | key.yHi,
                xLo: key.xLo,
                yLo: key.yLo,
                operator: msg.sender,
                active: true,
                nodeId: nodeId,
                url: url
            })
        );
        activeBitmap |= 1 << index;
        activeCount += 1;
        _aggregate = _aggregate.isInfinity() ? key : _aggregate.add(key);
        emit NodeRegistered(index, nodeId, msg.sender, url);
    }

    /// Takes node `index` out of the active set; its slot (and bitmap position) stays.
    function deregister(uint256 index) external {
        Node storage n = _operated(index);
        n.active = false;
        activeBitmap &= ~(1 << index);
        activeCount -= 1;
        _aggregate = activeCount == 0 ? BLS.G1(0, 0, 0, 0) : _aggregate.add(publicKeyOf(index).negate());
        emit NodeLeft(index, n.nodeId);
    }

    function setUrl(uint256 index, string calldata url) external {
        _checkUrl(url);
        _operated(index).url = url;
        emit NodeUrlChanged(index, url);
    }

    /// Slots used so far, left nodes included (the next index).
    function nodeCount() external view returns (uint256) {
        return _nodes.length;
    }

    /// Every node in registry order, left ones included (marked inactive).
    function nodes() external view returns (NodeView[] memory out) {
        out = new NodeView[](_nodes.length);
        for (uint256 i = 0; i < _nodes.length; i++) {
            out[i] = nodeAt(i);
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
            active: n.active
        });
    }

    function publicKeyOf(uint256 index) public view returns (BLS.G1 memory key) {
        if (index >= _nodes.length) revert UnknownNode(index);
        Node storage n = _nodes[index];
        uint256 hi = n.keyHi;
        key = BLS.G1(hi >> 128, n.xLo, hi & type(uint128).max, n.yLo);
    }

    /// What the inbox needs to check a certificate: the active set and the sum of its keys.
    function signingState() external view returns (BLS.G1 memory aggregate, uint256 bitmap, uint256 count, uint256 slots) {
        return (_aggregate, activeBitmap, activeCount, _nodes.length);
    }

    function _parseKey(bytes calldata raw) private pure returns (BLS.G1 memory) {
        if (uint8(raw[0]) & 0xe0 != 0) revert MalformedKey();
        return BLS.parseG1(raw);
    }

    function _operated(uint256 index) private view returns (Node storage n) {
        if (index >= _nodes.length) revert UnknownNode(index);
        n = _nodes[index];
        if (!n.active) revert NodeNotActive(index);
        if (n.operator != msg.sender) revert NotOperator(index, n.operator);
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
