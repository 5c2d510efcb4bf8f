import type { Hex } from "viem";
import { type Address, checkAddress, type L1Signer, rpc, walletClient } from "../chain.js";
import { L1Error } from "../errors.js";
import {
  cellarInboxAbi,
  cellarInboxBytecode,
  cellarRegistryAbi,
  cellarRegistryBytecode,
} from "../generated/contracts.js";
import { mine } from "../transaction.js";

/** Registry and inbox parameters (PROTOCOL.md §19): bond, unbonding delay and certificate window. */
export interface DeployOptions {
  /** An existing registry to bind a new inbox to (the registry options are then ignored). */
  readonly registry?: Address;
  /** The least bond of a node or disperser, in wei (default 1 ether). */
  readonly minimumStake?: bigint;
  /** Blocks between leaving and withdrawing (default 151,200: 21 days of 12 s blocks). */
  readonly unbondingBlocks?: number;
  /** Only operators the deployer allow-lists may register (default false). */
  readonly permissioned?: boolean;
  readonly quorumNumerator?: number;
  readonly quorumDenominator?: number;
  /** Oldest reference block a certificate may name, in blocks before the posting block (default 7,200: a day). */
  readonly referenceWindow?: number;
}

export type DeployContractsParameters = L1Signer & DeployOptions;

/** Where the contracts are. */
export interface Deployment {
  readonly registry: Address;
  readonly inbox: Address;
  readonly chainId: bigint;
}

export type DeployContractsReturnType = Deployment;

export const DEFAULT_MINIMUM_STAKE = 10n ** 18n;
export const DEFAULT_UNBONDING_BLOCKS = 151_200;
export const DEFAULT_REFERENCE_WINDOW = 7_200;

/**
 * Deploys a registry (or reuses `registry`) and an inbox bound to it. The inbox's quorum is
 * numerator/denominator of the snapshot's active stake (default 2/3).
 */
export async function deployContracts(options: DeployContractsParameters): Promise<DeployContractsReturnType> {
  const { wallet, chain } = await walletClient(options);
  const deploy = async (action: string, send: () => Promise<Hex>): Promise<Address> => {
    const { contractAddress } = await mine(options.rpcUrl, await rpc(send, options.rpcUrl, action), action);
    if (!contractAddress) throw new L1Error("CELLAR_ERR_L1_REVERTED", `${action}: no contract was created`);
    return contractAddress;
  };
  const registry =
    options.registry === undefined
      ? await deploy("deploying the registry", () =>
          wallet.deployContract({
            abi: cellarRegistryAbi,
            bytecode: cellarRegistryBytecode,
            args: [
              options.minimumStake ?? DEFAULT_MINIMUM_STAKE,
              BigInt(options.unbondingBlocks ?? DEFAULT_UNBONDING_BLOCKS),
              options.permissioned ?? false,
            ],
          }),
        )
      : checkAddress(options.registry, "registry");
  const inbox = await deploy("deploying the inbox", () =>
    wallet.deployContract({
      abi: cellarInboxAbi,
      bytecode: cellarInboxBytecode,
      args: [
        registry,
        BigInt(options.quorumNumerator ?? 2),
        BigInt(options.quorumDenominator ?? 3),
        BigInt(options.referenceWindow ?? DEFAULT_REFERENCE_WINDOW),
      ],
    }),
  );
  return { registry, inbox, chainId: BigInt(chain.id) };
}
