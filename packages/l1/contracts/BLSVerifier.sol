// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS} from "./BLS.sol";

/// @notice The signature checks the registry and the inbox share, as external functions: the
/// contract calls them on itself inside try/catch, so that a malformed point or a point outside
/// its subgroup (which makes a precompile fail) becomes the caller's own clear error.
abstract contract BLSVerifier {
    /// Parses a blst uncompressed G2 point (192 bytes) into its EIP-2537 encoding.
    function parseSignature(bytes calldata raw) external pure returns (bytes memory) {
        return BLS.parseG2(raw);
    }

    /// Whether `signature` (EIP-2537 encoding) is `key`'s signature over `message`.
    function checkPairing(BLS.G1 calldata key, bytes calldata message, bytes calldata signature)
        external
        view
        returns (bool)
    {
        return BLS.verify(key, BLS.hashToG2(message), signature);
    }
}
