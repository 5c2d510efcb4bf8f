/**
 * The rules every Cellar role shares: node identity (BLS keys, node ids, proofs of possession),
 * the node set and its rendezvous-hashing custody rule (with the stand-ins that replace gone
 * custodians: `holdersTable`, `readOrder`), the attestation message and its
 * signatures, and the dispersal body a disperser sends a storage node.
 *
 * @example
 * ```ts
 * import { custodyColumns, signAttestation, verifyAttestation } from "@cellar/protocol";
 * const mine = custodyColumns(nodes, self.nodeId); // the columns this node keeps
 * const sig = signAttestation(secretKey, { chainId: 1n, inbox }, root, referenceBlock);
 * verifyAttestation(publicKey, { chainId: 1n, inbox }, root, referenceBlock, sig); // true
 * ```
 *
 * @packageDocumentation
 */

export type { SecretKey } from "@chainsafe/blst";
export {
  ATTEST_TAG,
  type AttestationDomain,
  attestationMessage,
  checkDomain,
  signAttestation,
  verifyAttestation,
} from "./attestation.js";
export {
  buildCertificate,
  type Certificate,
  type CertificateJson,
  certificateToJson,
  checkCertificate,
  coveredColumns,
  DEFAULT_QUORUM,
  meetsQuorum,
  parseCertificate,
  quorumFraction,
  quorumSize,
  requiredStake,
  signedStake,
  signerBitmap,
  signersOf,
} from "./certificate.js";
export { custodians, custodyColumns, custodyScore, custodyTable, DEFAULT_REPLICATION } from "./custody.js";
export { DISPERSAL_MAGIC, type DispersalBody, decodeDispersal, encodeDispersal } from "./dispersal.js";
export {
  AUTH_HEADERS,
  DISPERSE_TAG,
  type DispersalAuth,
  dispersalAuthHeaders,
  dispersalAuthMessage,
  MAX_AUTH_LIFETIME_SECONDS,
  parseDispersalAuth,
  signDispersal,
  verifyDispersalAuth,
} from "./dispersal-auth.js";
export {
  ENCODE_TAG,
  ENCODER_HEADER,
  encodeAuthMessage,
  signEncodeRequest,
  verifyEncodeRequest,
} from "./encode-auth.js";
export { PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorCode } from "./errors.js";
export type { Feed } from "./feed.js";
export {
  type ColumnHolders,
  type CustodyView,
  holdersTable,
  readerView,
  readOrder,
  rendezvousOrder,
  responsibleColumns,
} from "./holders.js";
export {
  DISPERSER_POP_TAG,
  generateSecretKey,
  nodeIdFromPublicKey,
  POP_TAG,
  type PopBinding,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  popMessage,
  proofOfPossession,
  verifyProofOfPossession,
} from "./keys.js";
export {
  buildNodeSet,
  MAX_NODES,
  type NodeEntry,
  type NodeRecord,
  type NodeSetJson,
  nodeSetToJson,
  parseNodeSet,
  registrySlots,
  totalStake,
} from "./node-set.js";
export { type SnapshotSource, staticSnapshots } from "./snapshot.js";
