import {
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  defineChain,
  ExecutionRevertedError,
  type Hex,
  HttpRequestError,
  http,
  isAddress,
  isHex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { L1Error } from "./errors.js";
import { cellarInboxAbi, cellarRegistryAbi } from "./generated/contracts.js";

export type Address = `0x${string}`;

/** Where the L1 is: its JSON-RPC URL (and, for writes, the key of the paying account). */
export interface L1Connection {
  readonly rpcUrl: string;
}

export interface L1Signer extends L1Connection {
  readonly privateKey: Hex;
}

/** A client that signs with one private key, for the chain its RPC serves. */
export type Wallet = WalletClient<Transport, Chain, PrivateKeyAccount>;

const publicClients = new Map<string, PublicClient>();

function transport(rpcUrl: string): Transport {
  if (!/^https?:\/\/[^\s]+$/.test(rpcUrl))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", `not an http(s) RPC URL: ${rpcUrl}`, { rpcUrl });
  return http(rpcUrl, { retryCount: 2, timeout: 30_000 });
}

/** A read-only client (one per RPC URL per process). */
export function publicClient(rpcUrl: string): PublicClient {
  let client = publicClients.get(rpcUrl);
  if (!client) {
    client = createPublicClient({ transport: transport(rpcUrl) }) as PublicClient;
    publicClients.set(rpcUrl, client);
  }
  return client;
}

/** A client that signs with `privateKey`, for the chain the RPC serves. */
export async function walletClient(signer: L1Signer): Promise<{ wallet: Wallet; chain: Chain }> {
  if (!isHex(signer.privateKey) || signer.privateKey.length !== 66)
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "a private key is 32 bytes of 0x-hex");
  const id = await rpc(() => publicClient(signer.rpcUrl).getChainId(), signer.rpcUrl);
  const chain = defineChain({
    id,
    name: `L1 ${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [signer.rpcUrl] } },
  });
  const wallet = createWalletClient({
    account: privateKeyToAccount(signer.privateKey),
    chain,
    transport: transport(signer.rpcUrl),
  });
  return { wallet, chain };
}

export function checkAddress(value: string, what: string): Address {
  if (!isAddress(value, { strict: false }))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", `${what} is not a 20-byte 0x address: ${value}`, { what });
  return value as Address;
}

const format = (name: string, args: readonly unknown[] = []) =>
  `${name}(${args.map((a) => (typeof a === "bigint" ? a.toString() : String(a))).join(", ")})`;

/** The contract error a call reverted with, as `Name(arg, …)`, or null when it was not a revert. */
export function revertReason(err: unknown): string | null {
  if (!(err instanceof BaseError)) return null;
  const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (revert instanceof ContractFunctionRevertedError) {
    // An error the called contract passed up from the other one (the registry's, inside a
    // `postBatch`) is not in the called contract's ABI: decode it with both.
    if (!revert.data && revert.raw) return decodeBoth(revert.raw);
    return format(revert.data?.errorName ?? revert.reason ?? "unknown", revert.data?.args);
  }
  // A revert outside a contract call (a deployment's constructor): decode the raw error data.
  const raw = err.walk((e) => typeof (e as { data?: unknown }).data === "string");
  const data = (raw as { data?: string } | null)?.data;
  if (raw instanceof ExecutionRevertedError || (typeof data === "string" && /^0x[0-9a-f]{8}/i.test(data))) {
    if (typeof data !== "string") return "reverted()";
    return decodeBoth(data as Hex);
  }
  return null;
}

function decodeBoth(data: Hex): string {
  try {
    const decoded = decodeErrorResult({ abi: [...cellarRegistryAbi, ...cellarInboxAbi], data });
    return format(decoded.errorName, decoded.args);
  } catch {
    return `reverted(${data.slice(0, 10)})`;
  }
}

/** Runs an RPC call, mapping transport failures to CELLAR_ERR_L1_RPC and reverts to CELLAR_ERR_L1_REVERTED. */
export async function rpc<T>(work: () => Promise<T>, rpcUrl: string, action = "L1 call"): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const reason = revertReason(err);
    if (reason !== null)
      throw new L1Error("CELLAR_ERR_L1_REVERTED", `${action} reverted: ${reason}`, { reason, rpcUrl }, { cause: err });
    if (err instanceof BaseError && err.walk((e) => e instanceof HttpRequestError))
      throw new L1Error("CELLAR_ERR_L1_RPC", `cannot reach the L1 RPC at ${rpcUrl}`, { rpcUrl }, { cause: err });
    if (err instanceof L1Error) throw err;
    throw new L1Error(
      "CELLAR_ERR_L1_RPC",
      `${action} failed: ${(err as Error).message.split("\n")[0]}`,
      { rpcUrl },
      { cause: err },
    );
  }
}
