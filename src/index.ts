/**
 * What a store imports to check a landing URL without calling the gateway: the verifier and the
 * signing primitives it is built on (see the README for the algorithm in other languages).
 */
export {
  attributionQuery,
  canonicalString,
  SCHEME_VERSION,
  signCanonical,
  verifyAttribution,
  type AttributionFields,
  type SigningKey,
  type VerifyFailure,
  type VerifyOptions,
  type VerifyResult,
} from './domain/attribution.js';
